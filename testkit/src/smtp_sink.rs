//! Test support: a small SMTP server on loopback that keeps what it receives, so tests check
//! real SMTP conversations without Docker or an outside process. It speaks what a client needs
//! (EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT) and can be told to refuse
//! or hang on given recipients.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use url::Url;

/// What the sink does when a client names a given recipient in `RCPT TO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answers `550` (mailbox unavailable).
    Refuse,
    /// Stops answering, reading and discarding whatever comes until the client hangs up.
    Hang,
}

/// One message as the sink accepted it.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message after dot-unstuffing, without the terminating `.` line.
    pub data: Vec<u8>,
}

/// Everything the sink saw, in order.
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    pub connections: usize,
    /// Every command line, as sent (message content excluded).
    pub commands: Vec<String>,
    pub messages: Vec<Received>,
}

/// A running sink; stops when dropped.
pub struct SmtpSink {
    address: SocketAddr,
    transcript: watch::Receiver<Transcript>,
    acceptor: JoinHandle<()>,
    sessions: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl SmtpSink {
    /// A sink that accepts every mail.
    pub async fn start() -> Self {
        Self::start_with([]).await
    }

    /// A sink that accepts every mail, listening on `address` — the address of a sink that
    /// was dropped, say, as a relay coming back after an outage. Retries the bind for a few
    /// seconds while the old listener is still being closed.
    pub async fn start_at(address: SocketAddr) -> Self {
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(address).await {
                Ok(listener) => break listener,
                Err(_) if tries < 100 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(error) => panic!("cannot listen again on {address}: {error}"),
            }
        };
        Self::serve(listener, HashMap::new())
    }

    /// A sink that applies `faults` to the recipients they name.
    pub async fn start_with<'a>(faults: impl IntoIterator<Item = (&'a str, Fault)>) -> Self {
        let faults: Arc<HashMap<String, Fault>> = Arc::new(
            faults
                .into_iter()
                .map(|(recipient, fault)| (recipient.to_owned(), fault))
                .collect::<HashMap<_, _>>(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener, faults.as_ref().clone())
    }

    fn serve(listener: TcpListener, faults: HashMap<String, Fault>) -> Self {
        let faults = Arc::new(faults);
        let address = listener.local_addr().unwrap();
        let (record, transcript) = watch::channel(Transcript::default());
        let record = Arc::new(record);
        let sessions = Arc::new(Mutex::new(Vec::new()));
        let running = sessions.clone();
        let acceptor = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                record.send_modify(|t| t.connections += 1);
                let session = tokio::spawn(converse(stream, record.clone(), faults.clone()));
                running.lock().unwrap().push(session);
            }
        });
        Self {
            address,
            transcript,
            acceptor,
            sessions,
        }
    }

    /// Closes every open connection without a word, as a restarting relay would.
    pub fn drop_connections(&self) {
        for session in self.sessions.lock().unwrap().drain(..) {
            session.abort();
        }
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `smtp://127.0.0.1:PORT`: a plain connection, as a local catcher expects.
    pub fn url(&self) -> Url {
        Url::parse(&format!("smtp://{}", self.address)).unwrap()
    }

    pub fn transcript(&self) -> Transcript {
        self.transcript.borrow().clone()
    }

    /// The first `count` messages, waiting for them to arrive; panics after `within`.
    pub async fn wait_for_messages(&self, count: usize, within: Duration) -> Vec<Received> {
        let transcript = self.wait_until(|t| t.messages.len() >= count, within).await;
        transcript.messages[..count].to_vec()
    }

    /// The transcript as soon as `seen` holds for it; panics after `within`.
    pub async fn wait_until(
        &self,
        seen: impl FnMut(&Transcript) -> bool,
        within: Duration,
    ) -> Transcript {
        let mut transcript = self.transcript.clone();
        match tokio::time::timeout(within, transcript.wait_for(seen)).await {
            Ok(Ok(t)) => t.clone(),
            _ => panic!(
                "the sink did not see what was expected within {within:?}: {:#?}",
                self.transcript()
            ),
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.acceptor.abort();
        self.drop_connections();
    }
}

/// The server side of one SMTP session.
async fn converse(
    stream: TcpStream,
    record: Arc<watch::Sender<Transcript>>,
    faults: Arc<HashMap<String, Fault>>,
) {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    let mut reply = async |text: &str| writer.write_all(text.as_bytes()).await.is_ok();
    if !reply("220 sink.test ESMTP ready\r\n").await {
        return;
    }
    let mut mail_from: Option<String> = None;
    let mut rcpt_to = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let command = String::from_utf8_lossy(&line).trim_end().to_owned();
        record.send_modify(|t| t.commands.push(command.clone()));
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let answer = match verb.as_str() {
            "EHLO" => "250-sink.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n",
            "HELO" | "NOOP" => "250 OK\r\n",
            "RSET" => {
                mail_from = None;
                rcpt_to.clear();
                "250 OK\r\n"
            }
            "MAIL" => {
                mail_from = Some(angle_address(&command));
                rcpt_to.clear();
                "250 OK\r\n"
            }
            "RCPT" if mail_from.is_none() => "503 5.5.1 MAIL first\r\n",
            "RCPT" => {
                let recipient = angle_address(&command);
                match faults.get(&recipient) {
                    Some(Fault::Refuse) => "550 5.1.1 mailbox unavailable\r\n",
                    Some(Fault::Hang) => {
                        // Swallow everything until the client gives up and closes.
                        let _ = tokio::io::copy(&mut reader, &mut tokio::io::sink()).await;
                        return;
                    }
                    None => {
                        rcpt_to.push(recipient);
                        "250 OK\r\n"
                    }
                }
            }
            "DATA" if rcpt_to.is_empty() => "503 5.5.1 RCPT first\r\n",
            "DATA" => {
                if !reply("354 end data with <CR><LF>.<CR><LF>\r\n").await {
                    return;
                }
                let Some(data) = read_data(&mut reader).await else {
                    return;
                };
                let received = Received {
                    mail_from: mail_from.take().unwrap_or_default(),
                    rcpt_to: std::mem::take(&mut rcpt_to),
                    data,
                };
                record.send_modify(|t| t.messages.push(received));
                "250 2.0.0 queued\r\n"
            }
            "QUIT" => {
                let _ = reply("221 2.0.0 bye\r\n").await;
                return;
            }
            _ => "502 5.5.2 command not recognised\r\n",
        };
        if !reply(answer).await {
            return;
        }
    }
}

/// The address between the angle brackets of `MAIL FROM:<a@b> ...` or `RCPT TO:<a@b>`.
fn angle_address(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_default()
}

/// The message lines up to the lone `.`, with the leading dot of stuffed lines removed
/// (RFC 5321 §4.5.2); `None` if the client hung up first.
async fn read_data<R: AsyncReadExt + AsyncBufReadExt + Unpin>(reader: &mut R) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await.ok()? == 0 {
            return None;
        }
        if line == b".\r\n" {
            return Some(data);
        }
        let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
        data.extend_from_slice(unstuffed);
    }
}
