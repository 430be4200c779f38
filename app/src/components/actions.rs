//! Following server actions from a page: what changed on the server, not every attempt.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::error::AppError;

/// Counts the completions of `action` that `counts` accepts (usually: it succeeded). A
/// refused one changes nothing, so a page that refetches on this does not rebuild its forms
/// (clearing what was typed) on every error. Leptos bumps an action's version before it
/// sets its value, so this follows the value and reads the version untracked.
pub fn completions<S>(
    action: ServerAction<S>,
    counts: fn(&Result<(), AppError>) -> bool,
) -> Memo<usize>
where
    S: ServerFn<Output = (), Error = AppError> + Clone + Send + Sync + 'static,
{
    Memo::new(move |previous: Option<&usize>| {
        match action.value().with(|v| v.as_ref().map(counts)) {
            Some(true) => action.version().get_untracked(),
            _ => previous.copied().unwrap_or(0),
        }
    })
}

/// The usual test for [`completions`].
pub fn succeeded(result: &Result<(), AppError>) -> bool {
    result.is_ok()
}

/// The sum of several counts: changes whenever any of them does.
pub fn any_of<const N: usize>(counts: [Memo<usize>; N]) -> Memo<usize> {
    Memo::new(move |_| counts.iter().map(|c| c.get()).sum())
}
