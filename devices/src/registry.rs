//! The driver registry: which driver handles which URI scheme, where each came from, and
//! enumeration of every driver in parallel under a deadline.

#[cfg(feature = "replay")]
use crate::builtin::ReplaySource;
use crate::builtin::{SynthSource, TcpSource, UdpSource};
use crate::error::{DeviceError, Fault};
use crate::source::LiveSource;
use crate::uri::DeviceUri;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// Where a driver comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "path", rename_all = "snake_case")]
pub enum Origin {
    /// Compiled into PQE.
    BuiltIn,
    /// A C-ABI plugin library.
    Plugin(PathBuf),
    /// An out-of-process adapter (its manifest).
    Adapter(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::BuiltIn => f.write_str("built in"),
            Origin::Plugin(p) => write!(f, "plugin {}", p.display()),
            Origin::Adapter(p) => write!(f, "adapter {}", p.display()),
        }
    }
}

/// A driver's description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriverInfo {
    /// The driver's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The URI schemes it handles.
    pub schemes: Vec<String>,
    /// Where it was loaded from.
    pub origin: Origin,
    /// One line on what it is.
    pub description: String,
}

/// A device a driver found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FoundDevice {
    /// A URI that opens it.
    pub uri: String,
    /// What the driver says about it.
    pub description: String,
}

/// A driver: opens devices named by URIs of its schemes.
pub trait Driver: Send + Sync {
    /// What it is and where it came from.
    fn info(&self) -> &DriverInfo;
    /// The devices it can find now; must return within `deadline` (the registry abandons
    /// a driver that does not).
    fn enumerate(&self, deadline: Duration) -> Result<Vec<FoundDevice>, DeviceError>;
    /// Open the device `uri` names.
    fn open(&self, uri: &DeviceUri) -> Result<Box<dyn LiveSource>, DeviceError>;
}

/// One of the drivers compiled into PQE.
struct BuiltIn {
    info: DriverInfo,
    open: fn(&DeviceUri) -> Result<Box<dyn LiveSource>, DeviceError>,
}

impl Driver for BuiltIn {
    fn info(&self) -> &DriverInfo {
        &self.info
    }
    fn enumerate(&self, _deadline: Duration) -> Result<Vec<FoundDevice>, DeviceError> {
        // Files, scenarios and network streams are named, not discovered.
        Ok(Vec::new())
    }
    fn open(&self, uri: &DeviceUri) -> Result<Box<dyn LiveSource>, DeviceError> {
        (self.open)(uri)
    }
}

fn builtin(
    name: &str,
    description: &str,
    open: fn(&DeviceUri) -> Result<Box<dyn LiveSource>, DeviceError>,
) -> Arc<dyn Driver> {
    Arc::new(BuiltIn {
        info: DriverInfo {
            name: name.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            schemes: vec![name.to_string()],
            origin: Origin::BuiltIn,
            description: description.to_string(),
        },
        open,
    })
}

/// What enumeration of one driver gave.
#[derive(Debug, Serialize)]
pub struct Enumeration {
    /// The driver.
    pub driver: DriverInfo,
    /// The devices found, or why none could be listed.
    #[serde(serialize_with = "ser_found")]
    pub found: Result<Vec<FoundDevice>, DeviceError>,
    /// How long it took (the deadline where it was abandoned).
    pub seconds: f64,
}

fn ser_found<S: serde::Serializer>(
    r: &Result<Vec<FoundDevice>, DeviceError>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(1))?;
    match r {
        Ok(v) => m.serialize_entry("devices", v)?,
        Err(e) => m.serialize_entry("error", &e.to_string())?,
    }
    m.end()
}

/// A driver's enumeration result and the seconds it took.
type Answer = (Result<Vec<FoundDevice>, DeviceError>, f64);

/// The drivers PQE knows.
#[derive(Clone, Default)]
pub struct Registry {
    drivers: Vec<Arc<dyn Driver>>,
    /// Plugins and adapters found but refused (the error names the file and the mismatch).
    pub refused: Vec<Arc<DeviceError>>,
}

impl Registry {
    /// An empty registry.
    pub fn empty() -> Self {
        Registry::default()
    }

    /// The built-in drivers: `replay`, `synth`, `tcp`, `udp`.
    pub fn builtin() -> Self {
        let mut r = Registry::empty();
        #[cfg(feature = "replay")]
        r.add(builtin(
            "replay",
            "a recording played back (replay:PATH?speed=1|max)",
            |u| Ok(Box::new(ReplaySource::open(u)?)),
        ));
        r.add(builtin(
            "synth",
            "the scenario generator (synth:SCENARIO.toml?speed=1|max)",
            |u| Ok(Box::new(SynthSource::open(u)?)),
        ));
        r.add(builtin(
            "tcp",
            "raw sample packets from a TCP server (tcp://HOST:PORT)",
            |u| Ok(Box::new(TcpSource::open(u)?)),
        ));
        r.add(builtin(
            "udp",
            "raw sample packets as UDP datagrams (udp://HOST:PORT)",
            |u| Ok(Box::new(UdpSource::open(u)?)),
        ));
        r
    }

    /// The built-in drivers, then the C plugins and adapter manifests (`*.adapter.json`)
    /// of the plugin folders ([`crate::plugin::plugin_dirs`]).
    pub fn standard() -> Self {
        let mut r = Registry::builtin();
        r.load_dirs(&crate::plugin::plugin_dirs());
        r
    }

    /// Load the C plugins and adapter manifests of `dirs` (refusals go to `refused`).
    pub fn load_dirs(&mut self, dirs: &[PathBuf]) {
        crate::plugin::load_plugins_into(self, dirs);
        for dir in dirs {
            for m in crate::adapter::manifests_in(dir) {
                match crate::adapter::AdapterSpec::from_manifest(&m) {
                    Ok(spec) => self.add(Arc::new(crate::adapter::AdapterDriver::new(spec))),
                    Err(e) => self.refused.push(Arc::new(e)),
                }
            }
        }
    }

    /// Add a driver; a scheme already taken stays with the driver that took it first
    /// (built-ins cannot be shadowed by a plugin), and the refusal is recorded.
    pub fn add(&mut self, driver: Arc<dyn Driver>) {
        for s in &driver.info().schemes {
            if let Some(owner) = self.driver_for(s) {
                self.refused.push(Arc::new(DeviceError::Load {
                    file: match &driver.info().origin {
                        Origin::Plugin(p) | Origin::Adapter(p) => p.clone(),
                        Origin::BuiltIn => PathBuf::from("(built in)"),
                    },
                    message: format!(
                        "scheme '{s}' is already handled by {} ({})",
                        owner.info().name,
                        owner.info().origin
                    ),
                }));
                return;
            }
        }
        self.drivers.push(driver);
    }

    /// Every driver, in the order added.
    pub fn drivers(&self) -> &[Arc<dyn Driver>] {
        &self.drivers
    }

    /// The driver of `scheme`.
    pub fn driver_for(&self, scheme: &str) -> Option<Arc<dyn Driver>> {
        let scheme = scheme.to_ascii_lowercase();
        self.drivers
            .iter()
            .find(|d| d.info().schemes.contains(&scheme))
            .cloned()
    }

    /// Open the device named by `uri`.
    pub fn open(&self, uri: &str) -> Result<Box<dyn LiveSource>, DeviceError> {
        let uri = DeviceUri::parse(uri)?;
        let driver = self
            .driver_for(uri.scheme())
            .ok_or_else(|| DeviceError::UnknownScheme {
                scheme: uri.scheme().to_string(),
                known: self
                    .drivers
                    .iter()
                    .flat_map(|d| d.info().schemes.iter().cloned())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        driver.open(&uri)
    }

    /// Ask every driver what it finds, all at once, each under `deadline`: a driver that
    /// has not answered by then is reported as timed out and the others are not held up.
    pub fn enumerate_all(&self, deadline: Duration) -> Vec<Enumeration> {
        let (tx, rx) = mpsc::channel();
        let started = Instant::now();
        for (i, d) in self.drivers.iter().enumerate() {
            let d = Arc::clone(d);
            let tx = tx.clone();
            // Detached: a driver stuck past its deadline is left behind, not joined.
            std::thread::spawn(move || {
                let t = Instant::now();
                let r = d.enumerate(deadline);
                let _ = tx.send((i, r, t.elapsed().as_secs_f64()));
            });
        }
        drop(tx);
        let mut results: Vec<Option<Answer>> = (0..self.drivers.len()).map(|_| None).collect();
        let end = started + deadline;
        while results.iter().any(Option::is_none) {
            let left = end.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok((i, r, s)) => results[i] = Some((r, s)),
                Err(_) => break,
            }
        }
        self.drivers
            .iter()
            .zip(results)
            .map(|(d, r)| {
                let (found, seconds) = r.unwrap_or_else(|| {
                    (
                        Err(DeviceError::Driver {
                            driver: d.info().name.clone(),
                            device: "(enumeration)".into(),
                            fault: Fault::Timeout,
                            message: format!(
                                "did not answer within {:.1} s",
                                deadline.as_secs_f64()
                            ),
                        }),
                        deadline.as_secs_f64(),
                    )
                });
                Enumeration {
                    driver: d.info().clone(),
                    found,
                    seconds,
                }
            })
            .collect()
    }
}
