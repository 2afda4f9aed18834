//! The client side of an association, without I/O: builds the APDUs to send and checks
//! the APDUs received (IEC 62056-5-3 clause 9.4: association establishment with no, low
//! and high level security; xDLMS services; release).
//!
//! Sequence: [`Session::aarq`] → [`Session::on_aare`]; with HLS, [`Session::hls_reply`] →
//! [`Session::on_hls_reply_response`] (passes 3 and 4); then service requests and their
//! responses; [`Session::rlrq`] → [`Session::on_rlre`].

use crate::acse::{
    describe_confirmed_service_error, Aare, Aarq, ApplicationContext, Conformance, InitiateRequest,
    InitiateResponse, Mechanism, Rlre, Rlrq,
};
use crate::axdr::Data;
use crate::error::{Error, Result};
use crate::security::{constant_time_eq, hls_digest, hls_sha256, Secret, Suite0};
use crate::xdlms::{
    invoke_byte, tag, ActionRequest, ActionResponse, AttributeDescriptor, ExceptionResponse,
    GetDataResult, GetRequest, GetResponse, MethodDescriptor, Obis, SelectiveAccess, SetRequest,
    SetResponse,
};

/// The Association LN object through which HLS pass 3 is sent (class 15, 0.0.40.0.0.255,
/// method 1 reply_to_HLS_authentication; IEC 62056-6-2 clause 4.4.3).
pub const CURRENT_ASSOCIATION: Obis = Obis([0, 0, 40, 0, 0, 255]);

/// How the client authenticates and protects the association.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// Authentication mechanism.
    pub mechanism: Mechanism,
    /// LLS password, or HLS secret for mechanisms 2, 3, 4 and 6.
    pub secret: Option<Secret>,
    /// Suite-0 ciphering (required by mechanism 5, optional otherwise).
    pub ciphering: Option<Suite0>,
    /// Conformance block proposed.
    pub conformance: Conformance,
    /// client-max-receive-pdu-size proposed.
    pub max_receive_pdu: u16,
    /// First invoke-id (0..=15).
    pub invoke_id: u8,
    /// Keep the same invoke-id for every request instead of counting up.
    pub fixed_invoke_id: bool,
    /// Client challenge CtoS for HLS. `None` draws 16 random bytes from the operating
    /// system; a fixed one is only for replaying a recorded session.
    pub client_challenge: Option<Vec<u8>>,
    /// System title sent as calling-AP-title with mechanism 6 (SHA-256) without ciphering.
    pub client_title: Option<[u8; 8]>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            mechanism: Mechanism::None,
            secret: None,
            ciphering: None,
            conformance: Conformance::DEFAULT_PROPOSED,
            max_receive_pdu: 0xFFFF,
            invoke_id: 1,
            fixed_invoke_id: false,
            client_challenge: None,
            client_title: None,
        }
    }
}

/// Where the association stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// No AARQ sent.
    Idle,
    /// AARQ sent.
    AwaitingAare,
    /// AARE accepted with HLS: pass 3 to send.
    HlsPending,
    /// Pass 3 sent.
    AwaitingHlsReply,
    /// Association established.
    Associated,
    /// RLRQ sent.
    Releasing,
    /// Released or refused.
    Closed,
}

/// What the AARE asks for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssociationStep {
    /// The association is open.
    Established,
    /// High level security: send [`Session::hls_reply`] next.
    HlsReplyRequired,
}

/// The client side of one association.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    state: State,
    invoke_id: u8,
    ctos: Vec<u8>,
    stoc: Vec<u8>,
    server_title: Option<Vec<u8>>,
    negotiated: Option<InitiateResponse>,
    first_request_done: bool,
    pending_invoke: Option<u8>,
}

impl Session {
    /// A session with `config`; checks that the mechanism has what it needs.
    pub fn new(config: SessionConfig) -> Result<Self> {
        let m = config.mechanism;
        match m {
            Mechanism::Low
            | Mechanism::HighAes
            | Mechanism::HighMd5
            | Mechanism::HighSha1
            | Mechanism::HighSha256
                if config.secret.is_none() =>
            {
                return Err(Error::Config(format!(
                    "mechanism {} needs a secret (secret=env:VAR or keystore:NAME)",
                    m.id()
                )));
            }
            Mechanism::HighGmac if config.ciphering.is_none() => {
                return Err(Error::Config(
                    "HLS-GMAC (mechanism 5) needs suite-0 keys and a client system title".into(),
                ));
            }
            Mechanism::HighEcdsa => {
                return Err(Error::NotImplemented("HLS mechanism 7 (ECDSA)".into()))
            }
            Mechanism::HighSha256
                if config.client_title.is_none() && config.ciphering.is_none() =>
            {
                return Err(Error::Config(
                    "HLS-SHA256 (mechanism 6) needs a client system title".into(),
                ));
            }
            _ => {}
        }
        if config.invoke_id > 15 {
            return Err(Error::Config(format!(
                "invoke-id {} exceeds 15",
                config.invoke_id
            )));
        }
        let invoke_id = config.invoke_id;
        Ok(Self {
            config,
            state: State::Idle,
            invoke_id,
            ctos: Vec::new(),
            stoc: Vec::new(),
            server_title: None,
            negotiated: None,
            first_request_done: false,
            pending_invoke: None,
        })
    }

    /// The association state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The InitiateResponse of the meter, once associated.
    pub fn negotiated(&self) -> Option<&InitiateResponse> {
        self.negotiated.as_ref()
    }

    /// The meter's system title (AARE responding-AP-title), if sent.
    pub fn server_title(&self) -> Option<&[u8]> {
        self.server_title.as_deref()
    }

    /// The password or secret, to redact it from traces.
    pub fn secret(&self) -> Option<&Secret> {
        self.config.secret.as_ref()
    }

    /// Whether APDUs are ciphered.
    pub fn ciphered(&self) -> bool {
        self.config.ciphering.is_some()
    }

    fn client_title(&self) -> Option<[u8; 8]> {
        self.config
            .ciphering
            .as_ref()
            .map(|c| c.client_title)
            .or(self.config.client_title)
    }

    /// Build the AARQ.
    pub fn aarq(&mut self) -> Result<Vec<u8>> {
        let m = self.config.mechanism;
        let authentication_value = match m {
            Mechanism::None => None,
            Mechanism::Low => self.config.secret.as_ref().map(|s| s.expose().to_vec()),
            _ => {
                let c = match &self.config.client_challenge {
                    Some(c) => c.clone(),
                    None => {
                        let mut c = vec![0u8; 16];
                        getrandom::getrandom(&mut c).map_err(|e| {
                            Error::Config(format!(
                                "no random challenge from the operating system: {e}"
                            ))
                        })?;
                        c
                    }
                };
                if !(8..=64).contains(&c.len()) {
                    return Err(Error::Config(format!(
                        "HLS challenge of {} bytes (8..=64 allowed)",
                        c.len()
                    )));
                }
                self.ctos = c.clone();
                Some(c)
            }
        };
        let initiate = InitiateRequest {
            dedicated_key: None,
            response_allowed: true,
            quality_of_service: None,
            dlms_version: 6,
            conformance: self.config.conformance,
            client_max_receive_pdu_size: self.config.max_receive_pdu,
        }
        .encode();
        let (context, user_information) = match &mut self.config.ciphering {
            Some(c) => (
                ApplicationContext::LogicalNameCiphered,
                c.protect(&initiate)?,
            ),
            None => (ApplicationContext::LogicalName, initiate),
        };
        let calling_ap_title = match (context, m) {
            (ApplicationContext::LogicalNameCiphered, _) | (_, Mechanism::HighSha256) => {
                self.client_title().map(|t| t.to_vec())
            }
            _ => None,
        };
        self.state = State::AwaitingAare;
        Ok(Aarq {
            context,
            calling_ap_title,
            mechanism: m,
            authentication_value,
            user_information: Some(user_information),
        }
        .encode())
    }

    /// Check the AARE: accepted, same context and mechanism, a usable InitiateResponse.
    pub fn on_aare(&mut self, apdu: &[u8]) -> Result<AssociationStep> {
        if self.state != State::AwaitingAare {
            return Err(Error::Unexpected {
                expected: "no AARE (none requested)",
                got: "AARE".into(),
            });
        }
        if apdu.first() == Some(&tag::EXCEPTION_RESPONSE) {
            self.state = State::Closed;
            return Err(Error::Exception(
                ExceptionResponse::decode(apdu)?.to_string(),
            ));
        }
        let aare = Aare::decode(apdu)?;
        if let Some(t) = &aare.responding_ap_title {
            self.server_title = Some(t.clone());
            if let Some(c) = &mut self.config.ciphering {
                c.server_title = Some(t.as_slice().try_into().map_err(|_| {
                    Error::Authentication(format!(
                        "server system title of {} bytes (8 expected)",
                        t.len()
                    ))
                })?);
            }
        }
        if aare.result != 0 {
            self.state = State::Closed;
            let mut diagnostic = aare.diagnostic_name();
            if let Some(ui) = &aare.user_information {
                if ui.first() == Some(&tag::CONFIRMED_SERVICE_ERROR) {
                    diagnostic.push_str(&format!("; {}", describe_confirmed_service_error(ui)));
                }
            }
            return Err(Error::Rejected {
                result: aare.result_name(),
                diagnostic,
            });
        }
        let expected_context = if self.ciphered() {
            ApplicationContext::LogicalNameCiphered
        } else {
            ApplicationContext::LogicalName
        };
        if aare.context != expected_context {
            self.state = State::Closed;
            return Err(Error::Unexpected {
                expected: "the application context proposed",
                got: format!("{:?}", aare.context),
            });
        }
        let ui = aare
            .user_information
            .as_ref()
            .ok_or_else(|| Error::Unexpected {
                expected: "InitiateResponse in the AARE",
                got: "no user-information".into(),
            })?;
        let plain = match (&mut self.config.ciphering, ui.first()) {
            (Some(c), Some(&tag::GLO_INITIATE_RESPONSE)) => c.unprotect(ui)?,
            (Some(_), Some(&t)) if t == InitiateResponse::TAG => {
                return Err(Error::Authentication(
                    "the meter answered a ciphered AARQ with a plain InitiateResponse".into(),
                ));
            }
            _ => ui.clone(),
        };
        if plain.first() == Some(&tag::CONFIRMED_SERVICE_ERROR) {
            self.state = State::Closed;
            return Err(Error::Exception(describe_confirmed_service_error(&plain)));
        }
        let ir = InitiateResponse::decode(&plain)?;
        self.negotiated = Some(ir);
        let m = self.config.mechanism;
        if m.is_high() {
            if aare.mechanism != Some(m) {
                self.state = State::Closed;
                return Err(Error::Unexpected {
                    expected: "the mechanism proposed in the AARE",
                    got: format!("{:?}", aare.mechanism),
                });
            }
            self.stoc = aare
                .authentication_value
                .clone()
                .ok_or_else(|| Error::Unexpected {
                    expected: "a server challenge (responding-authentication-value)",
                    got: "none".into(),
                })?;
            self.state = State::HlsPending;
            return Ok(AssociationStep::HlsReplyRequired);
        }
        self.state = State::Associated;
        Ok(AssociationStep::Established)
    }

    fn next_invoke(&mut self) -> u8 {
        if !self.config.fixed_invoke_id {
            self.invoke_id = (self.invoke_id + 1) & 0x0F;
        }
        invoke_byte(self.invoke_id, true)
    }

    fn current_invoke(&self) -> u8 {
        invoke_byte(self.invoke_id, true)
    }

    fn start_invoke(&mut self) -> u8 {
        // The first request uses the configured id; later ones count up.
        if self.first_request_done {
            self.next_invoke()
        } else {
            self.first_request_done = true;
            self.current_invoke()
        }
    }

    fn protect(&mut self, plain: Vec<u8>) -> Result<Vec<u8>> {
        match &mut self.config.ciphering {
            Some(c) => c.protect(&plain),
            None => Ok(plain),
        }
    }

    /// HLS pass 3: reply_to_HLS_authentication with f(StoC).
    pub fn hls_reply(&mut self) -> Result<Vec<u8>> {
        if self.state != State::HlsPending {
            return Err(Error::Unexpected {
                expected: "an AARE asking for HLS",
                got: "HLS reply requested".into(),
            });
        }
        let m = self.config.mechanism;
        let proof = match m {
            Mechanism::HighGmac => {
                let stoc = self.stoc.clone();
                self.config
                    .ciphering
                    .as_mut()
                    .ok_or_else(|| Error::Config("HLS-GMAC without keys".into()))?
                    .gmac_proof(&stoc)?
            }
            Mechanism::HighSha256 => {
                let st_c = self.client_title().unwrap_or_default();
                let st_s = self.server_title.clone().ok_or_else(|| {
                    Error::Authentication(
                        "HLS-SHA256 needs the server system title in the AARE".into(),
                    )
                })?;
                hls_sha256(self.secret_ref()?, &st_c, &st_s, &self.stoc, &self.ctos)
            }
            _ => hls_digest(m, self.secret_ref()?, &self.stoc)?,
        };
        let invoke = self.start_invoke();
        let req = ActionRequest {
            invoke,
            method: MethodDescriptor {
                class_id: 15,
                instance: CURRENT_ASSOCIATION,
                method: 1,
            },
            parameters: Some(Data::OctetString(proof)),
        };
        self.state = State::AwaitingHlsReply;
        self.pending_invoke = Some(invoke);
        self.protect(req.encode())
    }

    fn secret_ref(&self) -> Result<&Secret> {
        self.config
            .secret
            .as_ref()
            .ok_or_else(|| Error::Config("no secret configured".into()))
    }

    /// HLS pass 4: check the meter's f(CtoS).
    pub fn on_hls_reply_response(&mut self, apdu: &[u8]) -> Result<()> {
        if self.state != State::AwaitingHlsReply {
            return Err(Error::Unexpected {
                expected: "no HLS reply",
                got: "an HLS reply".into(),
            });
        }
        let plain = self.open(apdu)?;
        let resp = ActionResponse::decode(&plain)?;
        self.check_invoke(resp.invoke)?;
        if resp.result != 0 {
            self.state = State::Closed;
            return Err(Error::Authentication(format!(
                "the meter refused our HLS reply: action result {}",
                crate::xdlms::action_result_name(resp.result)
            )));
        }
        let reply = match resp.return_parameters {
            Some(Ok(Data::OctetString(b))) => b,
            other => {
                self.state = State::Closed;
                return Err(Error::Authentication(format!(
                    "the meter's HLS reply carries no octet-string ({})",
                    other.map_or("nothing".into(), |o| format!(
                        "{:?}",
                        o.map(|d| d.type_name())
                    ))
                )));
            }
        };
        let m = self.config.mechanism;
        let ok = match m {
            Mechanism::HighGmac => {
                let ctos = self.ctos.clone();
                self.config
                    .ciphering
                    .as_mut()
                    .ok_or_else(|| Error::Config("HLS-GMAC without keys".into()))?
                    .verify_server_gmac(&ctos, &reply)
                    .is_ok()
            }
            Mechanism::HighSha256 => {
                let st_c = self.client_title().unwrap_or_default();
                let st_s = self.server_title.clone().unwrap_or_default();
                constant_time_eq(
                    &hls_sha256(self.secret_ref()?, &st_s, &st_c, &self.ctos, &self.stoc),
                    &reply,
                )
            }
            _ => constant_time_eq(&hls_digest(m, self.secret_ref()?, &self.ctos)?, &reply),
        };
        if !ok {
            self.state = State::Closed;
            return Err(Error::Authentication(format!(
                "the meter's reply to our challenge (HLS mechanism {}) does not verify: it does not know the secret",
                m.id()
            )));
        }
        self.state = State::Associated;
        Ok(())
    }

    fn check_invoke(&mut self, got: u8) -> Result<()> {
        let expected = self
            .pending_invoke
            .take()
            .unwrap_or_else(|| self.current_invoke());
        if got & 0x0F != expected & 0x0F {
            return Err(Error::InvokeId {
                expected: expected & 0x0F,
                got: got & 0x0F,
            });
        }
        Ok(())
    }

    /// Remove protection and turn exception-response / confirmed-service-error into errors.
    pub fn open(&mut self, apdu: &[u8]) -> Result<Vec<u8>> {
        let first = *apdu.first().ok_or_else(|| Error::Unexpected {
            expected: "an APDU",
            got: "an empty one".into(),
        })?;
        if first == tag::EXCEPTION_RESPONSE {
            return Err(Error::Exception(
                ExceptionResponse::decode(apdu)?.to_string(),
            ));
        }
        if first == tag::CONFIRMED_SERVICE_ERROR {
            return Err(Error::Exception(describe_confirmed_service_error(apdu)));
        }
        let plain = match &mut self.config.ciphering {
            Some(c) => {
                if crate::security::unprotected_tag(first).is_none()
                    && first != tag::GENERAL_GLO_CIPHERING
                {
                    return Err(Error::Authentication(format!(
                        "plain APDU (tag 0x{first:02X}) in a ciphered association"
                    )));
                }
                c.unprotect(apdu)?
            }
            None => apdu.to_vec(),
        };
        match plain.first() {
            Some(&tag::EXCEPTION_RESPONSE) => Err(Error::Exception(
                ExceptionResponse::decode(&plain)?.to_string(),
            )),
            Some(&tag::CONFIRMED_SERVICE_ERROR) => {
                Err(Error::Exception(describe_confirmed_service_error(&plain)))
            }
            _ => Ok(plain),
        }
    }

    fn require_associated(&self) -> Result<()> {
        if self.state != State::Associated {
            return Err(Error::Unexpected {
                expected: "an open association",
                got: format!("a request in state {:?}", self.state),
            });
        }
        Ok(())
    }

    /// get-request-normal.
    pub fn get_request(
        &mut self,
        descriptor: AttributeDescriptor,
        access: Option<SelectiveAccess>,
    ) -> Result<Vec<u8>> {
        self.require_associated()?;
        let invoke = self.start_invoke();
        self.pending_invoke = Some(invoke);
        self.protect(
            GetRequest::Normal {
                invoke,
                descriptor,
                access,
            }
            .encode(),
        )
    }

    /// get-request-next acknowledging `block`.
    pub fn get_next_request(&mut self, block: u32) -> Result<Vec<u8>> {
        self.require_associated()?;
        let invoke = self.current_invoke();
        self.pending_invoke = Some(invoke);
        self.protect(GetRequest::Next { invoke, block }.encode())
    }

    /// get-request-with-list.
    pub fn get_with_list_request(
        &mut self,
        items: Vec<(AttributeDescriptor, Option<SelectiveAccess>)>,
    ) -> Result<Vec<u8>> {
        self.require_associated()?;
        let invoke = self.start_invoke();
        self.pending_invoke = Some(invoke);
        self.protect(GetRequest::WithList { invoke, items }.encode())
    }

    /// Decode a Get-Response to the outstanding request.
    pub fn on_get_response(&mut self, apdu: &[u8]) -> Result<GetResponse> {
        let plain = self.open(apdu)?;
        let resp = GetResponse::decode(&plain)?;
        self.check_invoke(resp.invoke())?;
        Ok(resp)
    }

    /// set-request-normal.
    pub fn set_request(&mut self, descriptor: AttributeDescriptor, value: Data) -> Result<Vec<u8>> {
        self.require_associated()?;
        let invoke = self.start_invoke();
        self.pending_invoke = Some(invoke);
        self.protect(
            SetRequest {
                invoke,
                descriptor,
                access: None,
                value,
            }
            .encode(),
        )
    }

    /// Decode a Set-Response.
    pub fn on_set_response(&mut self, apdu: &[u8]) -> Result<SetResponse> {
        let plain = self.open(apdu)?;
        let resp = SetResponse::decode(&plain)?;
        self.check_invoke(resp.invoke)?;
        Ok(resp)
    }

    /// action-request-normal.
    pub fn action_request(
        &mut self,
        method: MethodDescriptor,
        parameters: Option<Data>,
    ) -> Result<Vec<u8>> {
        self.require_associated()?;
        let invoke = self.start_invoke();
        self.pending_invoke = Some(invoke);
        self.protect(
            ActionRequest {
                invoke,
                method,
                parameters,
            }
            .encode(),
        )
    }

    /// Decode an Action-Response.
    pub fn on_action_response(&mut self, apdu: &[u8]) -> Result<ActionResponse> {
        let plain = self.open(apdu)?;
        let resp = ActionResponse::decode(&plain)?;
        self.check_invoke(resp.invoke)?;
        Ok(resp)
    }

    /// RLRQ with reason normal.
    pub fn rlrq(&mut self) -> Vec<u8> {
        self.state = State::Releasing;
        Rlrq {
            reason: Some(0),
            user_information: None,
        }
        .encode()
    }

    /// Check the RLRE.
    pub fn on_rlre(&mut self, apdu: &[u8]) -> Result<Rlre> {
        self.state = State::Closed;
        if apdu.first() == Some(&tag::EXCEPTION_RESPONSE) {
            return Err(Error::Exception(
                ExceptionResponse::decode(apdu)?.to_string(),
            ));
        }
        Ok(Rlre::decode(apdu)?)
    }
}

/// A Get-Data-Result as a `Result`, naming the attribute on failure.
pub fn data_or_error(descriptor: &AttributeDescriptor, r: GetDataResult) -> Result<Data> {
    r.map_err(|code| Error::Access {
        service: "GET",
        target: descriptor.to_string(),
        result: crate::xdlms::data_access_result_name(code),
    })
}
