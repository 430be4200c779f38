//! Integration tests: the real router, over HTTP requests, against SQLite and (when
//! `NIDAN_TEST_POSTGRES_URL` names a server) PostgreSQL. One binary, many modules: on two
//! cores, linking dominates, so there is only one test binary to link.

mod accounts;
mod assets;
mod authenticator;
mod failure_modes;
mod malformed;
mod passkeys;
mod phone;
mod stalls;
mod support;
mod two_factor;
