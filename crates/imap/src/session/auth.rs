//! Getting in: STARTTLS, LOGIN, AUTHENTICATE (PLAIN and LOGIN, with
//! SASL-IR). Failures are counted; the directory throttles per address and
//! account, and the session closes after `imap_auth_times` failures.

use super::{End, Flow, Login, Session, receiver_limits};
use crate::backend::{AuthFailure, Backend};
use groxide_imap_proto::{
    AUTH_LOGIN_PASSWORD_CHALLENGE, AUTH_LOGIN_USERNAME_CHALLENGE, AuthMechanism,
    AuthenticateResponse, ContinueRequest, ResponseCode, Status, Tag, decode_sasl_plain,
    parse_authenticate_response,
};

/// What one SASL exchange step produced.
enum Answer {
    Data(Vec<u8>),
    /// The client cancelled or sent garbage; the reply is written.
    Abort,
}

impl<B: Backend> Session<'_, B> {
    pub(super) async fn starttls(&mut self, tag: &Tag) -> Flow {
        if self.tls {
            self.tagged(tag, Status::Bad, None, "TLS is already active");
            return Ok(());
        }
        if self.login.is_some() {
            self.tagged(
                tag,
                Status::Bad,
                None,
                "STARTTLS is only valid before login",
            );
            return Ok(());
        }
        let acceptor = if self.settings.starttls {
            self.server.tls_acceptor()
        } else {
            None
        };
        let Some(acceptor) = acceptor else {
            self.tagged(tag, Status::No, None, "TLS is not available");
            return Ok(());
        };
        self.tagged(tag, Status::Ok, None, "Begin TLS negotiation now");
        self.conn.flush().await?;
        // Bytes sent before the handshake were not protected: drop them (RFC 9051 §6.2.1).
        let _ = self.rx.take_buffered();
        let Some(stream) = self.conn.take_stream() else {
            return Err(End::Closed);
        };
        let limit = self.settings.conn_timeout;
        match tokio::time::timeout(limit, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => {
                self.conn.set_stream(Box::new(tls));
                self.tls = true;
                Ok(())
            }
            Ok(Err(e)) => {
                tracing::info!(peer = %self.peer, error = %e, "STARTTLS handshake failed");
                Err(End::Closed)
            }
            Err(_) => {
                tracing::info!(peer = %self.peer, "STARTTLS handshake timed out");
                Err(End::Closed)
            }
        }
    }

    /// Whether a login may be tried now; writes the refusal otherwise.
    fn login_allowed(&mut self, tag: &Tag) -> bool {
        if self.login.is_some() {
            self.tagged(tag, Status::Bad, None, "Already logged in");
            return false;
        }
        if self.settings.force_tls && !self.tls {
            self.tagged(
                tag,
                Status::No,
                Some(ResponseCode::PrivacyRequired),
                "Login requires TLS (STARTTLS or the implicit-TLS port)",
            );
            return false;
        }
        true
    }

    pub(super) async fn login(&mut self, tag: &Tag, username: &[u8], password: &[u8]) -> Flow {
        if !self.login_allowed(tag) {
            return Ok(());
        }
        self.check_credentials(tag, username, password).await
    }

    pub(super) async fn authenticate(
        &mut self,
        tag: &Tag,
        mechanism: AuthMechanism,
        initial_response: Option<Vec<u8>>,
    ) -> Flow {
        if !self.login_allowed(tag) {
            return Ok(());
        }
        match mechanism {
            AuthMechanism::Plain => {
                let message = match initial_response {
                    Some(r) => r,
                    None => match self.challenge(tag, Vec::new()).await? {
                        Answer::Data(d) => d,
                        Answer::Abort => return Ok(()),
                    },
                };
                let Ok(creds) = decode_sasl_plain(&message) else {
                    self.tagged(tag, Status::Bad, None, "Malformed SASL PLAIN message");
                    return Ok(());
                };
                if !creds.authzid.is_empty() && creds.authzid != creds.authcid {
                    self.tagged(
                        tag,
                        Status::No,
                        Some(ResponseCode::AuthorizationFailed),
                        "Acting as another user is not supported",
                    );
                    return Ok(());
                }
                self.check_credentials(tag, &creds.authcid, &creds.password)
                    .await
            }
            AuthMechanism::Login => {
                let user = match initial_response {
                    Some(u) => u,
                    None => {
                        let prompt = AUTH_LOGIN_USERNAME_CHALLENGE;
                        match self.challenge_text(tag, prompt).await? {
                            Answer::Data(d) => d,
                            Answer::Abort => return Ok(()),
                        }
                    }
                };
                let password = match self
                    .challenge_text(tag, AUTH_LOGIN_PASSWORD_CHALLENGE)
                    .await?
                {
                    Answer::Data(d) => d,
                    Answer::Abort => return Ok(()),
                };
                self.check_credentials(tag, &user, &password).await
            }
            AuthMechanism::Other(name) => {
                let text = format!("Unsupported authentication mechanism {name}");
                self.tagged(tag, Status::No, None, &text);
                Ok(())
            }
        }
    }

    /// Sends a challenge (raw bytes, base64-encoded on the wire) and reads the answer.
    async fn challenge(&mut self, tag: &Tag, challenge: Vec<u8>) -> Result<Answer, End> {
        self.enc
            .continue_request(self.conn.out(), &ContinueRequest::Base64(challenge));
        self.read_answer(tag).await
    }

    /// Sends an already base64-encoded challenge and reads the answer.
    async fn challenge_text(&mut self, tag: &Tag, encoded: &str) -> Result<Answer, End> {
        let out = self.conn.out();
        out.extend_from_slice(b"+ ");
        out.extend_from_slice(encoded.as_bytes());
        out.extend_from_slice(b"\r\n");
        self.read_answer(tag).await
    }

    async fn read_answer(&mut self, tag: &Tag) -> Result<Answer, End> {
        self.conn.flush().await?;
        let line = self.read_line().await?;
        match parse_authenticate_response(&line) {
            Ok(AuthenticateResponse::Data(d)) => Ok(Answer::Data(d)),
            Ok(AuthenticateResponse::Cancel) => {
                self.tagged(tag, Status::Bad, None, "Authentication cancelled");
                Ok(Answer::Abort)
            }
            Err(e) => {
                self.tagged(tag, Status::Bad, None, &e.to_string());
                Ok(Answer::Abort)
            }
        }
    }

    /// Asks the directory; on success the session is logged in.
    async fn check_credentials(&mut self, tag: &Tag, user: &[u8], password: &[u8]) -> Flow {
        let (Ok(user), Ok(password)) = (std::str::from_utf8(user), std::str::from_utf8(password))
        else {
            return self
                .login_failed(tag, AuthFailure::InvalidCredentials)
                .await;
        };
        let backend = self.server.backend();
        let account = match backend.authenticate(user, password, self.peer.ip()).await {
            Ok(a) => a,
            Err(f) => return self.login_failed(tag, f).await,
        };
        let slot = match self
            .server
            .admission()
            .login(&account.username, self.settings.max_connections_per_user)
        {
            Ok(slot) => slot,
            Err(refusal) => {
                tracing::info!(user = %account.username, peer = %self.peer, "login refused: {refusal}");
                return self
                    .bye(ResponseCode::Unavailable, &refusal.to_string())
                    .await;
            }
        };
        self.slot.authenticated();
        let watch = match backend.watch(&account.dir).await {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::info!(dir = %account.dir, error = %e, "no change hints; mailboxes are checked at each command");
                None
            }
        };
        tracing::info!(user = %account.username, peer = %self.peer, "logged in");
        self.login = Some(Login {
            account,
            _slot: slot,
        });
        self.watch = watch;
        self.rx.set_limits(receiver_limits(&self.settings, true));
        let caps = self.capability_list();
        self.tagged(
            tag,
            Status::Ok,
            Some(ResponseCode::Capability(caps)),
            "Logged in",
        );
        Ok(())
    }

    async fn login_failed(&mut self, tag: &Tag, failure: AuthFailure) -> Flow {
        self.auth_failures += 1;
        let (code, text) = match &failure {
            AuthFailure::InvalidCredentials => (
                ResponseCode::AuthenticationFailed,
                "Invalid user name or password",
            ),
            AuthFailure::Blocked => (
                ResponseCode::AuthenticationFailed,
                "Too many failed logins; try again later",
            ),
            AuthFailure::AccountDisabled => (ResponseCode::AuthorizationFailed, "Account disabled"),
            AuthFailure::ProtocolNotPermitted => (
                ResponseCode::AuthorizationFailed,
                "IMAP access is not permitted for this account",
            ),
            AuthFailure::Unavailable(_) => (
                ResponseCode::Unavailable,
                "Authentication temporarily unavailable; try again",
            ),
        };
        tracing::info!(peer = %self.peer, reason = %failure, "login failed");
        self.tagged(tag, Status::No, Some(code), text);
        if self.auth_failures >= self.settings.auth_failures_per_session {
            return self.bye_plain("Too many authentication failures").await;
        }
        Ok(())
    }
}
