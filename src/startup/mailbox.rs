//! The development mailbox: without `SMTP_URL` outside production, Tern runs a real SMTP
//! server on a loopback port (mailin's SMTP session behind a tokio listener) and points its
//! mailer at it. What arrives is kept in PostgreSQL (`dev_mailbox`), shown at `/_dev/mail`.
//! Tests steer it like a real server that misbehaves: refusing for a while (451), refusing one
//! recipient for good (550), or down altogether (nothing listening).

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use crate::db::Pool as PgPool;
use anyhow::Context;
use mailin::{Action, Handler, Response, SessionBuilder, response};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::db;

/// A running development SMTP server.
#[derive(Clone)]
pub struct DevMailbox {
    addr: SocketAddr,
    pool: PgPool,
    control: Arc<Control>,
}

#[derive(Default)]
struct Control {
    /// Answer 451 to every message (a server refusing for now).
    refusing: Mutex<bool>,
    /// Recipients answered 550 (refused for good), in lower case.
    rejected: Mutex<HashSet<String>>,
    /// The accept loop; `None` while the server is down.
    listener: Mutex<Option<JoinHandle<()>>>,
}

impl DevMailbox {
    /// Listens on a free loopback port.
    pub async fn start(pool: PgPool) -> anyhow::Result<DevMailbox> {
        let listener =
            TcpListener::bind(("127.0.0.1", 0)).await.context("the development SMTP server cannot listen")?;
        let mailbox = DevMailbox { addr: listener.local_addr()?, pool, control: Arc::default() };
        mailbox.serve(listener);
        tracing::info!(smtp.addr = %mailbox.addr, "development mailbox: messages are kept and shown at /_dev/mail");
        Ok(mailbox)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    fn serve(&self, listener: TcpListener) {
        let (pool, control) = (self.pool.clone(), self.control.clone());
        let task = tokio::spawn(async move {
            let mut sessions = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((stream, peer)) => {
                            sessions.spawn(session(stream, peer.ip(), pool.clone(), control.clone()));
                        }
                        Err(e) => tracing::warn!(error = %e, "development mailbox: accept failed"),
                    },
                    Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
                }
            }
        });
        if let Some(old) = self.control.listener.lock().expect("mailbox lock").replace(task) {
            old.abort();
        }
    }

    /// Stops listening and drops every open session: the server is down.
    pub fn stop(&self) {
        if let Some(task) = self.control.listener.lock().expect("mailbox lock").take() {
            task.abort();
        }
    }

    /// Listens again on the same port after [`stop`](Self::stop).
    pub async fn restart(&self) -> anyhow::Result<()> {
        self.stop();
        // The aborted loop releases the port once its task is dropped, a moment later.
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && tries < 500 => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                Err(e) => return Err(e).context("the development SMTP server cannot listen again"),
            }
        };
        self.serve(listener);
        Ok(())
    }

    /// While `on`, every message is refused with 451 (try again later).
    pub fn refuse_for_now(&self, on: bool) {
        *self.control.refusing.lock().expect("mailbox lock") = on;
    }

    /// Refuses `address` for good (550 mailbox unavailable).
    pub fn reject_recipient(&self, address: &str) {
        self.control.rejected.lock().expect("mailbox lock").insert(address.to_lowercase());
    }

    /// What arrived, newest first.
    pub async fn messages(&self) -> anyhow::Result<Vec<db::mail::StoredMessage>> {
        Ok(db::mail::messages(&self.pool, 500).await?)
    }
}

/// One message as the session hands it over at the end of DATA.
struct Received {
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

struct Collector {
    control: Arc<Control>,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
    done: Arc<Mutex<Option<Received>>>,
}

impl Handler for Collector {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, from: &str) -> Response {
        if *self.control.refusing.lock().expect("mailbox lock") {
            return Response::custom(451, "Try again later".into());
        }
        self.from = from.to_string();
        response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        if self.control.rejected.lock().expect("mailbox lock").contains(&to.to_lowercase()) {
            return response::NO_MAILBOX;
        }
        response::OK
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.from = from.to_string();
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let received = Received {
            from: std::mem::take(&mut self.from),
            to: std::mem::take(&mut self.to),
            data: std::mem::take(&mut self.data),
        };
        *self.done.lock().expect("mailbox lock") = Some(received);
        response::OK
    }
}

/// One SMTP session: a message is acknowledged only once it is stored.
async fn session(stream: TcpStream, peer: IpAddr, pool: PgPool, control: Arc<Control>) {
    let done = Arc::new(Mutex::new(None));
    let collector = Collector { control, from: String::new(), to: Vec::new(), data: Vec::new(), done: done.clone() };
    let mut smtp = SessionBuilder::new("tern-dev-mailbox").build(peer, collector);
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let Ok(greeting) = smtp.greeting().buffer() else { return };
    if write.write_all(&greeting).await.is_err() {
        return;
    }
    let mut line = Vec::with_capacity(128);
    loop {
        line.clear();
        match read.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut reply = smtp.process(&line);
        let received = done.lock().expect("mailbox lock").take();
        if let Some(m) = received
            && let Err(e) = db::mail::store_message(&pool, &m.from, &m.to, &m.data).await
        {
            tracing::warn!(error = %e, "development mailbox: a message could not be stored");
            reply = response::INTERNAL_ERROR;
        }
        if reply.action != Action::NoReply {
            let Ok(bytes) = reply.buffer() else { return };
            if write.write_all(&bytes).await.is_err() {
                return;
            }
        }
        if matches!(reply.action, Action::Close | Action::UpgradeTls) {
            return;
        }
    }
}
