//! TLS for the real-broker tests: a throw-away PKI made with the `openssl` command (a CA,
//! a server certificate for 127.0.0.1, a client certificate whose key is encrypted with a
//! passphrase, and an unrelated CA) and a TLS-terminating proxy in front of Tansu
//! (tests/support/tls_proxy.py), because Tansu 0.6.0 cannot serve TLS itself.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const KEY_PASSPHRASE: &str = "correct-horse-battery-staple";

pub struct Pki {
    pub dir: PathBuf,
}

impl Pki {
    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    /// Makes ca.pem, server.{pem,key}, client.{pem,key} (key encrypted with
    /// [`KEY_PASSPHRASE`]) and other-ca.pem in `dir`.
    pub fn generate(dir: &Path) -> Pki {
        let pki = Pki {
            dir: dir.to_owned(),
        };
        let p = |n: &str| pki.path(n);
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
        for (key, cert, cn) in [
            ("ca.key", "ca.pem", "newsflow test CA"),
            ("other-ca.key", "other-ca.pem", "unrelated CA"),
        ] {
            openssl(&[
                &["req", "-x509", "-nodes", "-days", "2", "-subj"],
                &[&format!("/CN={cn}"), "-keyout", &p(key), "-out", &p(cert)],
                &ec[..],
            ]);
        }
        std::fs::write(
            p("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        std::fs::write(p("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
        for (name, cn, encrypt) in [("server", "127.0.0.1", false), ("client", "newsflow", true)] {
            let key = p(&format!("{name}.key"));
            let csr = p(&format!("{name}.csr"));
            let pass = format!("pass:{KEY_PASSPHRASE}");
            let keyopts: Vec<&str> = if encrypt {
                vec!["-passout", &pass]
            } else {
                vec!["-nodes"]
            };
            openssl(&[
                &["req", "-new", "-subj", &format!("/CN={cn}")],
                &["-keyout", &key, "-out", &csr],
                &keyopts,
                &ec[..],
            ]);
            openssl(&[
                &["x509", "-req", "-days", "2", "-in", &csr],
                &[
                    "-CA",
                    &p("ca.pem"),
                    "-CAkey",
                    &p("ca.key"),
                    "-CAcreateserial",
                ],
                &["-extfile", &p(&format!("{name}.ext"))],
                &["-out", &p(&format!("{name}.pem"))],
            ]);
        }
        pki
    }
}

fn openssl(args: &[&[&str]]) {
    let args: Vec<&str> = args.concat();
    let out = Command::new("openssl")
        .args(&args)
        .output()
        .expect("the openssl command (Debian package openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A TLS-terminating proxy: TLS on `port`, plain TCP to `upstream`.
pub struct TlsProxy {
    pub port: u16,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl TlsProxy {
    pub fn start(port: u16, upstream: u16, pki: &Pki, require_client_cert: bool) -> TlsProxy {
        let mut cmd = Command::new(super::real::python());
        cmd.arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/tls_proxy.py"
        ))
        .args(["--listen", &port.to_string()])
        .args(["--upstream", &upstream.to_string()])
        .args(["--cert", &pki.path("server.pem")])
        .args(["--key", &pki.path("server.key")]);
        if require_client_cert {
            cmd.args(["--client-ca", &pki.path("ca.pem")]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tls_proxy.py");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let out = BufReader::new(child.stdout.take().unwrap());
        let sink = lines.clone();
        std::thread::spawn(move || {
            for l in out.lines().map_while(Result::ok) {
                sink.lock().unwrap().push(l);
            }
        });
        let proxy = TlsProxy { port, child, lines };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !proxy.log().iter().any(|l| l == "listening") {
            assert!(Instant::now() < deadline, "tls proxy did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        proxy
    }

    /// What the proxy printed: "accepted <client CN> <TLS version>" / "rejected ...".
    pub fn log(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
