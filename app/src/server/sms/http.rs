//! A real SMS gateway over HTTP, in the shape of Twilio's Messages API: a form POST to
//! `{base}/2010-04-01/Accounts/{sid}/Messages.json` with basic auth. reqwest (rustls) is the
//! client; every request has a timeout, and the answer is sorted into refused (4xx: the
//! number or the request is wrong) and failed (5xx, timeouts, network).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::{SmsError, SmsMessage};

pub struct HttpGateway {
    client: reqwest::Client,
    endpoint: String,
    account_sid: String,
    auth_token: SecretString,
    from: String,
}

/// What the gateway needs; from `NIDAN_SMS_*` variables (README).
pub struct HttpGatewayConfig {
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: SecretString,
    pub from: String,
    pub timeout: Duration,
}

impl HttpGateway {
    pub fn new(config: HttpGatewayConfig) -> Result<Self, SmsError> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| SmsError::Network(e.to_string()))?;
        let endpoint = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            config.base_url.trim_end_matches('/'),
            config.account_sid
        );
        Ok(Self {
            client,
            endpoint,
            account_sid: config.account_sid,
            auth_token: config.auth_token,
            from: config.from,
        })
    }

    pub async fn send(&self, message: &SmsMessage) -> Result<(), SmsError> {
        let form = [
            ("To", message.to_e164.as_str()),
            ("From", self.from.as_str()),
            ("Body", message.body.as_str()),
        ];
        let res = self
            .client
            .post(&self.endpoint)
            .basic_auth(&self.account_sid, Some(self.auth_token.expose_secret()))
            .form(&form)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    SmsError::Timeout
                } else {
                    SmsError::Network(e.without_url().to_string())
                }
            })?;
        let status = res.status();
        if status.is_success() {
            Ok(())
        } else if status.is_client_error() {
            tracing::warn!(status = status.as_u16(), "SMS gateway refused a message");
            Err(SmsError::Rejected(status.as_u16()))
        } else {
            tracing::warn!(status = status.as_u16(), "SMS gateway failed");
            Err(SmsError::Unavailable(status.as_u16()))
        }
    }
}
