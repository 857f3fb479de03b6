//! Receiving an upload in parts without ever holding it: every byte is hashed (SHA-256) and
//! counted as it streams in, so a 300 MB video goes through the fake in constant memory and the
//! ledger can still prove which bytes arrived.
//!
//! Parts are numbered (X's `segment_index`, LinkedIn's part number, Facebook's chunks in offset
//! order). The whole file's hash is one running SHA-256 over the parts in order, so:
//! - the next part expected is hashed straight into (a copy of) the running hash;
//! - a part that arrives early (LinkedIn parts may be PUT in any order) is hashed on its own and
//!   spilled to a temporary file, and fed into the running hash, from the file, once the parts
//!   before it are in: memory stays bounded whatever the order, at the cost of disk for the
//!   early parts only (a client sending in order, as Crier's does, never spills);
//! - a part sent again (a retry after a timeout) is hashed and compared with the first copy: the
//!   same bytes are accepted, different bytes make the upload corrupt (it fails at finalize).
//!
//! The sandbox's lock is never held while bytes stream: [`Assembly::begin`] hands out a
//! [`Ticket`] under the lock, [`Ticket::receive`] streams without it, [`Assembly::finish`] (or
//! [`Assembly::abort`] when the body broke off) takes the lock again.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};

/// How many leading bytes are kept, for sniffing the type and reading dimensions.
pub(crate) const HEAD_BYTES: usize = 64 * 1024;

pub(crate) fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

struct Part {
    sha256: [u8; 32],
    len: u64,
    /// An early part's bytes, until the parts before it are in.
    spill: Option<tempfile::NamedTempFile>,
}

/// One upload's bytes as they arrive.
pub(crate) struct Assembly {
    hasher: Sha256,
    next: u64,
    bytes: u64,
    head: Vec<u8>,
    parts: BTreeMap<u64, Part>,
    busy: bool,
    corrupt: Option<String>,
}

/// What to do with one part's bytes, decided under the lock.
pub(crate) enum Ticket {
    /// The next part: extend (a copy of) the running hash.
    Next { index: u64, hasher: Box<Sha256>, head: Vec<u8> },
    /// An early part: hash it alone and keep it in a file.
    Early { index: u64 },
    /// A part already in: hash it alone and compare.
    Again { index: u64 },
}

/// One part, received.
pub(crate) struct Received {
    index: u64,
    len: u64,
    sha256: [u8; 32],
    running: Option<(Box<Sha256>, Vec<u8>)>,
    spill: Option<tempfile::NamedTempFile>,
}

impl Received {
    /// Bytes in this part.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// This part's own SHA-256, in hex (LinkedIn's ETag for it).
    pub(crate) fn sha256_hex(&self) -> String {
        hex(&self.sha256)
    }
}

/// The finished upload.
#[derive(Clone, Debug)]
pub(crate) struct Whole {
    pub(crate) sha256: String,
    pub(crate) bytes: u64,
    pub(crate) head: Vec<u8>,
}

impl Default for Assembly {
    fn default() -> Self {
        Assembly { hasher: Sha256::new(), next: 0, bytes: 0, head: Vec::new(), parts: BTreeMap::new(), busy: false, corrupt: None }
    }
}

fn keep_head(head: &mut Vec<u8>, chunk: &[u8]) {
    if head.len() < HEAD_BYTES {
        let take = (HEAD_BYTES - head.len()).min(chunk.len());
        head.extend_from_slice(&chunk[..take]);
    }
}

impl Assembly {
    /// Bytes hashed into the whole so far (the parts in order).
    pub(crate) fn bytes_in_order(&self) -> u64 {
        self.bytes
    }

    /// Bytes received in all parts, early ones included.
    pub(crate) fn bytes_received(&self) -> u64 {
        self.parts.values().map(|p| p.len).sum()
    }

    /// Whether part `index` is in.
    pub(crate) fn has(&self, index: u64) -> bool {
        self.parts.contains_key(&index)
    }

    /// How to receive part `index`.
    pub(crate) fn begin(&mut self, index: u64) -> Ticket {
        if self.parts.contains_key(&index) {
            return Ticket::Again { index };
        }
        if index == self.next && !self.busy {
            self.busy = true;
            return Ticket::Next { index, hasher: Box::new(self.hasher.clone()), head: self.head.clone() };
        }
        Ticket::Early { index }
    }

    /// The body broke off: forget the part.
    pub(crate) fn abort(&mut self, ticket_index: u64) {
        if ticket_index == self.next {
            self.busy = false;
        }
    }

    /// Takes a received part in.
    pub(crate) fn finish(&mut self, received: Received) {
        let index = received.index;
        if let Some(first) = self.parts.get(&index) {
            if first.sha256 != received.sha256 || first.len != received.len {
                self.corrupt = Some(format!("part {index} was sent twice with different bytes"));
            }
            return;
        }
        match received.running {
            Some((hasher, head)) if index == self.next => {
                self.hasher = *hasher;
                self.head = head;
                self.bytes += received.len;
                self.next += 1;
                self.busy = false;
                self.parts.insert(index, Part { sha256: received.sha256, len: received.len, spill: None });
            }
            _ => {
                // Received as early (or overtaken): keep it in its file.
                let spill = received.spill;
                self.parts.insert(index, Part { sha256: received.sha256, len: received.len, spill });
            }
        }
        self.drain();
    }

    /// Feeds the early parts that are now next into the running hash, from their files.
    fn drain(&mut self) {
        while !self.busy {
            let Some(part) = self.parts.get_mut(&self.next) else { return };
            let Some(mut file) = part.spill.take() else { return };
            let mut buf = vec![0u8; 64 * 1024];
            let mut reader = file.reopen().ok();
            let _ = file.flush();
            loop {
                let n = reader.as_mut().and_then(|r| r.read(&mut buf).ok()).unwrap_or(0);
                if n == 0 {
                    break;
                }
                self.hasher.update(&buf[..n]);
                keep_head(&mut self.head, &buf[..n]);
            }
            self.bytes += part.len;
            self.next += 1;
        }
    }

    /// The whole upload, when parts `0..count` are all in and nothing was corrupt.
    pub(crate) fn whole(&self, count: u64) -> Result<Whole, String> {
        if let Some(corrupt) = &self.corrupt {
            return Err(corrupt.clone());
        }
        if self.next < count || self.parts.len() as u64 != count {
            let missing: Vec<String> = (0..count).filter(|i| !self.parts.contains_key(i)).take(5).map(|i| i.to_string()).collect();
            return Err(format!("parts missing: {}", missing.join(", ")));
        }
        Ok(Whole { sha256: hex(&self.hasher.clone().finalize()), bytes: self.bytes, head: self.head.clone() })
    }

    /// The whole upload so far, whatever the part count (single-part uploads).
    pub(crate) fn whole_so_far(&self) -> Result<Whole, String> {
        self.whole(self.next)
    }
}

impl Ticket {
    /// The part index.
    pub(crate) fn index(&self) -> u64 {
        match self {
            Ticket::Next { index, .. } | Ticket::Early { index } | Ticket::Again { index } => *index,
        }
    }

    /// Streams the part's bytes: hashes and counts them, spilling an early part to a temporary
    /// file. `max` bytes at most (more is an error, so a part cannot be larger than it says).
    pub(crate) async fn receive<E: std::fmt::Display>(
        self,
        mut stream: impl Stream<Item = Result<Bytes, E>> + Unpin,
        max: u64,
    ) -> Result<Received, String> {
        let index = self.index();
        let mut own = Sha256::new();
        let mut len = 0u64;
        let (mut running, mut spill) = match self {
            Ticket::Next { hasher, head, .. } => (Some((hasher, head)), None),
            Ticket::Early { .. } => (None, Some(tempfile::NamedTempFile::new().map_err(|e| format!("temporary file: {e}"))?)),
            Ticket::Again { .. } => (None, None),
        };
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| format!("the body broke off: {e}"))?;
            len += chunk.len() as u64;
            if len > max {
                return Err(format!("more than {max} bytes"));
            }
            own.update(&chunk);
            if let Some((hasher, head)) = running.as_mut() {
                hasher.update(&chunk);
                keep_head(head, &chunk);
            }
            if let Some(file) = spill.as_mut() {
                file.write_all(&chunk).map_err(|e| format!("temporary file: {e}"))?;
            }
        }
        Ok(Received { index, len, sha256: own.finalize().into(), running, spill })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn put(a: &std::sync::Mutex<Assembly>, index: u64, bytes: &'static [u8]) {
        let ticket = a.lock().unwrap().begin(index);
        let stream = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(Bytes::from_static(bytes))]);
        let received = ticket.receive(stream, u64::MAX).await.unwrap();
        a.lock().unwrap().finish(received);
    }

    #[tokio::test]
    async fn any_order_gives_the_hash_of_the_bytes_in_order() {
        let expected = hex(&Sha256::digest(b"abcdefghi"));
        for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0], [2, 1, 0]] {
            let a = std::sync::Mutex::new(Assembly::default());
            let parts: [&'static [u8]; 3] = [b"abc", b"def", b"ghi"];
            for i in order {
                put(&a, i, parts[i as usize]).await;
            }
            put(&a, 1, b"def").await;
            let whole = a.lock().unwrap().whole(3).unwrap();
            assert_eq!((whole.sha256.as_str(), whole.bytes, whole.head.as_slice()), (expected.as_str(), 9, &b"abcdefghi"[..]), "{order:?}");
        }
        let a = std::sync::Mutex::new(Assembly::default());
        put(&a, 0, b"abc").await;
        put(&a, 0, b"xyz").await;
        assert!(a.lock().unwrap().whole(1).unwrap_err().contains("different bytes"));
        assert!(Assembly::default().whole(2).unwrap_err().contains("parts missing: 0, 1"));
    }
}
