//! A real SMTP server for tests: Python's aiosmtpd, saving each message to a folder.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const SERVER: &str = r#"
import os, sys, time
from aiosmtpd.controller import Controller

outdir, port = sys.argv[1], int(sys.argv[2])

class Saver:
    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(outdir, "%020d" % time.time_ns())
        with open(name + ".rcpt", "w") as f:
            f.write("\n".join(envelope.rcpt_tos))
        with open(name + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(name + ".tmp", name + ".eml")
        return "250 OK"

controller = Controller(Saver(), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"#;

/// One received message.
#[derive(Debug, Clone)]
pub struct Mail {
    /// `RCPT TO` addresses.
    pub recipients: Vec<String>,
    /// The raw message.
    pub raw: Vec<u8>,
}

impl Mail {
    /// The decoded subject.
    pub fn subject(&self) -> String {
        let parsed = mailparse::parse_mail(&self.raw).expect("valid MIME");
        parsed
            .headers
            .iter()
            .find(|h| h.get_key().eq_ignore_ascii_case("subject"))
            .map(|h| h.get_value())
            .unwrap_or_default()
    }

    /// The decoded `text/plain` and `text/html` parts.
    pub fn parts(&self) -> (String, String) {
        let parsed = mailparse::parse_mail(&self.raw).expect("valid MIME");
        let mut plain = String::new();
        let mut html = String::new();
        collect(&parsed, &mut plain, &mut html);
        (plain, html)
    }
}

fn collect(part: &mailparse::ParsedMail<'_>, plain: &mut String, html: &mut String) {
    match part.ctype.mimetype.as_str() {
        "text/plain" => plain.push_str(&part.get_body().expect("decodable body")),
        "text/html" => html.push_str(&part.get_body().expect("decodable body")),
        _ => {}
    }
    for sub in &part.subparts {
        collect(sub, plain, html);
    }
}

/// The running server; stops when dropped.
pub struct SmtpServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl SmtpServer {
    /// A free port to start a server on later.
    pub fn free_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    }

    /// Starts on `port` (0: any free port; another one is tried when a port found free
    /// was taken before the server bound it).
    pub async fn start(port: u16) -> SmtpServer {
        let packages =
            super::python_packages("python-aiosmtpd", "aiosmtpd>=1.4,<2", "aiosmtpd").await;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let chosen = if port == 0 { Self::free_port() } else { port };
            match Self::try_start(chosen, &packages).await {
                Ok(server) => return server,
                Err(why) if port == 0 && attempts < 5 => {
                    eprintln!("SMTP server on port {chosen} did not start ({why}); trying another");
                }
                Err(why) => panic!("the SMTP server started on port {chosen}: {why}"),
            }
        }
    }

    async fn try_start(port: u16, packages: &std::path::Path) -> Result<SmtpServer, String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new("python3")
            .args(["-c", SERVER])
            .arg(dir.path())
            .arg(port.to_string())
            .env("PYTHONPATH", packages)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
        match ready {
            Ok(Ok(Some(line))) if line == "ready" => Ok(SmtpServer { port, dir, child }),
            other => Err(format!("{other:?}")),
        }
    }

    /// The collector setting that sends here.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    /// Messages received so far, oldest first.
    pub fn messages(&self) -> Vec<Mail> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("read dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|path| Mail {
                recipients: std::fs::read_to_string(path.with_extension("rcpt"))
                    .unwrap_or_default()
                    .lines()
                    .map(str::to_owned)
                    .collect(),
                raw: std::fs::read(&path).expect("read message"),
            })
            .collect()
    }

    /// Waits until at least `count` messages arrived, or `timeout` passes.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Mail> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count || Instant::now() >= deadline {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
