//! XDR (RFC 4506) as libvirt's RPC uses it: big-endian, every item padded to 4 bytes.
//!
//! Our own codec rather than a crate: libvirt's rpcgen puts `char`, `unsigned char`, `short`
//! and `unsigned short` in 4 bytes each (and `char x[N]` in N × 4 bytes), which generic serde
//! XDR crates get wrong, and decoding here must never trust a length word further than the
//! input it came in.
//!
//! Encoding is infallible at each step and sticky at the end: the writer records the first
//! problem (a string longer than its declared maximum) and [`XdrWriter::finish`] reports it, so
//! generated `encode` bodies stay a flat list of calls.
//!
//! Decoding checks every length against both its declared maximum and the bytes left before
//! allocating, so a 100-byte packet that claims a 2 GiB string fails at once instead of
//! reserving 2 GiB. Every item but `void` occupies at least 4 bytes, which bounds array counts
//! the same way.
//!
//! What maps to what:
//!
//! | XDR | Rust | how |
//! |---|---|---|
//! | `int`, `unsigned int`, `hyper`, `unsigned hyper` | `i32`, `u32`, `i64`, `u64` | [`Xdr`] |
//! | `char`, `unsigned char`, `short`, `unsigned short` | `i8`, `u8`, `i16`, `u16` | [`Xdr`], 4 bytes each |
//! | `float`, `double`, `bool` | `f32`, `f64`, `bool` | [`Xdr`] |
//! | `T x[N]` | `[T; N]` | [`Xdr`] (so `[u8; N]` is `unsigned char x[N]`, not opaque) |
//! | `T *x` (optional data) | `Option<T>` | [`Xdr`] |
//! | `string x<>` | `String` | [`Xdr`] (unbounded) |
//! | `string x<N>`, `opaque x<N>`, `opaque x[N]` | `String`, `Vec<u8>`, `[u8; N]` | the `put_*`/`get_*` helpers |
//! | `T x<N>` | `Vec<T>` | [`XdrWriter::put_array`], [`XdrReader::get_array`] |
//! | `void` | `()` | [`Xdr`] |
//!
//! Strings are decoded lossily: libvirt sends C strings, normally UTF-8, and one stray byte in
//! a hostname should not make a whole reply unreadable.

use thiserror::Error;

/// Why XDR data could not be encoded or decoded. Offsets are from the start of the buffer the
/// reader was given.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum XdrError {
    #[error("XDR data ends early: {needed} bytes needed at offset {offset}, {available} left")]
    Truncated {
        offset: usize,
        needed: u64,
        available: usize,
    },
    #[error("XDR length {len} at offset {offset} is over the maximum of {max}")]
    TooLong { offset: usize, len: u64, max: u32 },
    #[error("XDR padding at offset {offset} is not zero")]
    BadPadding { offset: usize },
    #[error("XDR bool at offset {offset} is {value}, neither 0 nor 1")]
    BadBool { offset: usize, value: u32 },
    #[error("XDR value {value} at offset {offset} does not fit in {ty}")]
    OutOfRange {
        offset: usize,
        value: i64,
        ty: &'static str,
    },
    #[error("XDR value {value} is not a member of enum {name}")]
    BadEnum { name: &'static str, value: i32 },
    #[error("XDR discriminant {value} selects no arm of union {name}")]
    BadDiscriminant { name: &'static str, value: i32 },
    #[error("{count} bytes of XDR data left over at offset {offset}")]
    Trailing { offset: usize, count: usize },
    #[error("cannot encode {what} of {len} items: the maximum is {max}")]
    EncodeTooLong {
        what: &'static str,
        len: usize,
        max: u32,
    },
}

/// A value with an XDR encoding.
pub trait Xdr: Sized {
    fn encode(&self, w: &mut XdrWriter);
    fn decode(r: &mut XdrReader<'_>) -> Result<Self, XdrError>;
}

/// Encodes `value` alone.
pub fn to_bytes<T: Xdr>(value: &T) -> Result<Vec<u8>, XdrError> {
    let mut w = XdrWriter::new();
    value.encode(&mut w);
    w.finish()
}

/// Decodes a `T` that must use all of `data`.
pub fn from_bytes<T: Xdr>(data: &[u8]) -> Result<T, XdrError> {
    let mut r = XdrReader::new(data);
    let value = T::decode(&mut r)?;
    r.finish()?;
    Ok(value)
}

fn padding(len: usize) -> usize {
    (4 - len % 4) % 4
}

/// Appends XDR to a byte buffer.
#[derive(Debug, Default)]
pub struct XdrWriter {
    buf: Vec<u8>,
    error: Option<XdrError>,
}

impl XdrWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Continues `buf` (a packet whose header is already in it).
    pub fn with_buffer(buf: Vec<u8>) -> Self {
        XdrWriter { buf, error: None }
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The bytes, or the first error any `put_*` met.
    pub fn finish(self) -> Result<Vec<u8>, XdrError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.buf),
        }
    }

    fn fail(&mut self, e: XdrError) {
        self.error.get_or_insert(e);
    }

    pub fn put_u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn put_i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn put_u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn put_i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// A length word, checked against the declared maximum.
    fn put_len(&mut self, what: &'static str, len: usize, max: u32) -> bool {
        match u32::try_from(len) {
            Ok(n) if n <= max => {
                self.put_u32(n);
                true
            }
            _ => {
                self.fail(XdrError::EncodeTooLong { what, len, max });
                false
            }
        }
    }

    fn put_padded(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        self.buf.extend_from_slice(&[0; 3][..padding(bytes.len())]);
    }

    /// `string x<max>`.
    pub fn put_string(&mut self, s: &str, max: u32) {
        if self.put_len("string", s.len(), max) {
            self.put_padded(s.as_bytes());
        }
    }

    /// `remote_string x` (a `string<max> *`): the presence word, then the string.
    pub fn put_opt_string(&mut self, s: &Option<String>, max: u32) {
        match s {
            Some(s) => {
                self.put_u32(1);
                self.put_string(s, max);
            }
            None => self.put_u32(0),
        }
    }

    /// `opaque x<max>`.
    pub fn put_opaque(&mut self, bytes: &[u8], max: u32) {
        if self.put_len("opaque", bytes.len(), max) {
            self.put_padded(bytes);
        }
    }

    /// `opaque x[N]`: the bytes and their padding, no length.
    pub fn put_fixed_opaque(&mut self, bytes: &[u8]) {
        self.put_padded(bytes);
    }

    /// `T x<max>`.
    pub fn put_array<T: Xdr>(&mut self, items: &[T], max: u32) {
        if self.put_len("array", items.len(), max) {
            for item in items {
                item.encode(self);
            }
        }
    }

    /// `string_typedef x<max>`: an array of strings bounded by `item_max` each.
    pub fn put_string_array(&mut self, items: &[String], max: u32, item_max: u32) {
        if self.put_len("array", items.len(), max) {
            for item in items {
                self.put_string(item, item_max);
            }
        }
    }

    /// Raw bytes, as they are (stream data is not XDR).
    pub fn put_raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }
}

/// Reads XDR from a byte slice, never past its end.
#[derive(Debug, Clone)]
pub struct XdrReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> XdrReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        XdrReader { data, pos: 0 }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// The unread bytes, consumed (stream data that follows a header).
    pub fn take_rest(&mut self) -> &'a [u8] {
        let rest = &self.data[self.pos..];
        self.pos = self.data.len();
        rest
    }

    /// Fails if anything is left unread.
    pub fn finish(&self) -> Result<(), XdrError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(XdrError::Trailing {
                offset: self.pos,
                count,
            }),
        }
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], XdrError> {
        let available = self.remaining();
        match usize::try_from(n) {
            Ok(n) if n <= available => {
                let bytes = &self.data[self.pos..self.pos + n];
                self.pos += n;
                Ok(bytes)
            }
            _ => Err(XdrError::Truncated {
                offset: self.pos,
                needed: n,
                available,
            }),
        }
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], XdrError> {
        let bytes = self.take(N as u64)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    pub fn get_u32(&mut self) -> Result<u32, XdrError> {
        self.take_array().map(u32::from_be_bytes)
    }

    pub fn get_i32(&mut self) -> Result<i32, XdrError> {
        self.take_array().map(i32::from_be_bytes)
    }

    pub fn get_u64(&mut self) -> Result<u64, XdrError> {
        self.take_array().map(u64::from_be_bytes)
    }

    pub fn get_i64(&mut self) -> Result<i64, XdrError> {
        self.take_array().map(i64::from_be_bytes)
    }

    /// A length word for `len` bytes of payload (plus padding): over `max`, or more than what
    /// is left, fails before anyone allocates for it.
    fn get_byte_len(&mut self, max: u32) -> Result<usize, XdrError> {
        let offset = self.pos;
        let len = self.get_u32()?;
        if len > max {
            return Err(XdrError::TooLong {
                offset,
                len: u64::from(len),
                max,
            });
        }
        let needed = u64::from(len) + padding(len as usize) as u64;
        if needed > self.remaining() as u64 {
            return Err(XdrError::Truncated {
                offset: self.pos,
                needed,
                available: self.remaining(),
            });
        }
        Ok(len as usize)
    }

    /// An item count for an array: each item takes at least 4 bytes, so a count the rest of
    /// the input cannot hold fails here.
    fn get_count(&mut self, max: u32) -> Result<usize, XdrError> {
        let offset = self.pos;
        let count = self.get_u32()?;
        if count > max {
            return Err(XdrError::TooLong {
                offset,
                len: u64::from(count),
                max,
            });
        }
        let needed = u64::from(count) * 4;
        if needed > self.remaining() as u64 {
            return Err(XdrError::Truncated {
                offset: self.pos,
                needed,
                available: self.remaining(),
            });
        }
        Ok(count as usize)
    }

    fn get_padded(&mut self, len: usize) -> Result<&'a [u8], XdrError> {
        let bytes = self.take(len as u64)?;
        let pad_at = self.pos;
        let pad = self.take(padding(len) as u64)?;
        if pad.iter().any(|&b| b != 0) {
            return Err(XdrError::BadPadding { offset: pad_at });
        }
        Ok(bytes)
    }

    /// `string x<max>`.
    pub fn get_string(&mut self, max: u32) -> Result<String, XdrError> {
        let len = self.get_byte_len(max)?;
        let bytes = self.get_padded(len)?;
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }

    /// `remote_string x` (a `string<max> *`).
    pub fn get_opt_string(&mut self, max: u32) -> Result<Option<String>, XdrError> {
        if get_present(self)? {
            self.get_string(max).map(Some)
        } else {
            Ok(None)
        }
    }

    /// `opaque x<max>`.
    pub fn get_opaque(&mut self, max: u32) -> Result<Vec<u8>, XdrError> {
        let len = self.get_byte_len(max)?;
        self.get_padded(len).map(<[u8]>::to_vec)
    }

    /// `opaque x[N]`.
    pub fn get_fixed_opaque<const N: usize>(&mut self) -> Result<[u8; N], XdrError> {
        let bytes = self.get_padded(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// `T x<max>`.
    pub fn get_array<T: Xdr>(&mut self, max: u32) -> Result<Vec<T>, XdrError> {
        let count = self.get_count(max)?;
        let mut items = Vec::with_capacity(count);
        for _ in 0..count {
            items.push(T::decode(self)?);
        }
        Ok(items)
    }

    /// `string_typedef x<max>`.
    pub fn get_string_array(&mut self, max: u32, item_max: u32) -> Result<Vec<String>, XdrError> {
        let count = self.get_count(max)?;
        let mut items = Vec::with_capacity(count);
        for _ in 0..count {
            items.push(self.get_string(item_max)?);
        }
        Ok(items)
    }
}

/// The presence word of optional data: 0 or 1, nothing else.
fn get_present(r: &mut XdrReader<'_>) -> Result<bool, XdrError> {
    bool::decode(r)
}

impl Xdr for () {
    fn encode(&self, _: &mut XdrWriter) {}
    fn decode(_: &mut XdrReader<'_>) -> Result<Self, XdrError> {
        Ok(())
    }
}

impl Xdr for i32 {
    fn encode(&self, w: &mut XdrWriter) {
        w.put_i32(*self)
    }
    fn decode(r: &mut XdrReader<'_>) -> Result<Self, XdrError> {
        r.get_i32()
    }
}

impl Xdr for u32 {
    fn encode(&self, w: &mut XdrWriter) {
        w.put_u32(*self)
    }
    fn decode(r: &mut XdrReader<'_>) -> Result<Self, XdrError> {
        r.get_u32()
    }
}

impl Xdr for i64 {
    fn encode(&self, w: &mut XdrWriter) {
        w.put_i64(*self)
    }
    fn decode(r: &mut XdrReader<'_>) -> Result<Self, XdrError> {
        r.get_i64()
    }
}

impl Xdr for u64 {
    fn encode(&self, w: &mut XdrWriter) {
        w.put_u64(*self)
    }
    fn decode(r: &mut XdrReader<'_>) -> Result<Self, XdrError> {
        r.get_u64()
    }
}

impl Xdr for f32 {
    fn encode(&self, w: &mut XdrWriter) {
        w.put_u32(self.to_bits())
    }
    fn decode(r: &mut XdrReader<'_>) -> Result<Self, XdrError> {
        r.get_u32().map(f32::from_bits)
    }
}

impl Xdr for f64 {
    fn encode(&self, w: &mut XdrWriter) {
        w.put_u64(self.to_bits())
    }
    fn decode(r: &mut XdrReader<'_>) -> Result<Self, XdrError> {
        r.get_u64().map(f64::from_bits)
    }
}

impl Xdr for bool {
    fn encode(&self, w: &mut XdrWriter) {
        w.put_u32(u32::from(*self))
    }
    fn decode(r: &mut XdrReader<'_>) -> Result<Self, XdrError> {
        let offset = r.position();
        match r.get_u32()? {
            0 => Ok(false),
            1 => Ok(true),
            value => Err(XdrError::BadBool { offset, value }),
        }
    }
}

/// The small C integer types: rpcgen's `xdr_char`, `xdr_u_char`, `xdr_short` and
/// `xdr_u_short` put each in a full 4-byte word, sign- or zero-extended. A word outside the
/// type's range is refused rather than truncated as glibc would: no honest peer sends one.
macro_rules! small_int {
    ($($ty:ty),*) => {$(
        impl Xdr for $ty {
            fn encode(&self, w: &mut XdrWriter) {
                w.put_i32(i32::from(*self))
            }
            fn decode(r: &mut XdrReader<'_>) -> Result<Self, XdrError> {
                let offset = r.position();
                let value = r.get_i32()?;
                <$ty>::try_from(value).map_err(|_| XdrError::OutOfRange {
                    offset,
                    value: i64::from(value),
                    ty: stringify!($ty),
                })
            }
        }
    )*};
}
small_int!(i8, u8, i16, u16);

/// `string x<>`: no maximum but the input itself.
impl Xdr for String {
    fn encode(&self, w: &mut XdrWriter) {
        w.put_string(self, u32::MAX)
    }
    fn decode(r: &mut XdrReader<'_>) -> Result<Self, XdrError> {
        r.get_string(u32::MAX)
    }
}

/// Optional data (`T *x`): a presence word, then `T` if it is 1.
impl<T: Xdr> Xdr for Option<T> {
    fn encode(&self, w: &mut XdrWriter) {
        match self {
            Some(v) => {
                w.put_u32(1);
                v.encode(w);
            }
            None => w.put_u32(0),
        }
    }
    fn decode(r: &mut XdrReader<'_>) -> Result<Self, XdrError> {
        if get_present(r)? {
            T::decode(r).map(Some)
        } else {
            Ok(None)
        }
    }
}

/// Fixed-length arrays (`T x[N]`): N items, no count.
impl<T: Xdr, const N: usize> Xdr for [T; N] {
    fn encode(&self, w: &mut XdrWriter) {
        for item in self {
            item.encode(w);
        }
    }
    fn decode(r: &mut XdrReader<'_>) -> Result<Self, XdrError> {
        let needed = N as u64 * 4;
        if needed > r.remaining() as u64 {
            return Err(XdrError::Truncated {
                offset: r.position(),
                needed,
                available: r.remaining(),
            });
        }
        let mut items = Vec::with_capacity(N);
        for _ in 0..N {
            items.push(T::decode(r)?);
        }
        // The Vec holds exactly N items, so the conversion cannot fail; the error arm only
        // exists because the types do not say so.
        items.try_into().map_err(|_| XdrError::Truncated {
            offset: r.position(),
            needed,
            available: r.remaining(),
        })
    }
}

#[cfg(test)]
#[path = "xdr_tests.rs"]
mod tests;
