//! Bitcoin's consensus serialization: little-endian integers and
//! `CompactSize` variable-length integers ("varints").
//!
//! [`Encodable`] writes a value into a byte vector; [`Decodable`] reads one
//! from a [`Reader`] that tracks its position so errors can say where the
//! input went wrong. Decoding is strict: non-canonical varints and trailing
//! bytes are rejected.

/// Error decoding consensus bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Input ended before the value was complete.
    #[error("unexpected end of data at byte {at} (needed {needed} more)")]
    UnexpectedEnd {
        /// Offset where reading stopped.
        at: usize,
        /// Bytes still needed.
        needed: usize,
    },
    /// A CompactSize was not in its shortest form.
    #[error("non-canonical varint at byte {0}")]
    NonCanonicalVarint(usize),
    /// A length is larger than the data could possibly hold.
    #[error("length {len} at byte {at} is too large")]
    TooLarge {
        /// Offset of the length.
        at: usize,
        /// The length read.
        len: u64,
    },
    /// Bytes were left over after the value.
    #[error("{0} trailing bytes after the end of the data")]
    TrailingBytes(usize),
    /// The input is not hexadecimal.
    #[error("not valid hex: {0}")]
    InvalidHex(String),
}

/// A cursor over bytes being decoded.
#[derive(Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    /// Current offset.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Reads `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::UnexpectedEnd {
                at: self.pos,
                needed: n - self.remaining(),
            });
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Reads a fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// Reads a little-endian `u32`.
    pub fn u32_le(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// Reads a little-endian `i32`.
    pub fn i32_le(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from_le_bytes(self.array()?))
    }

    /// Reads a little-endian `u64`.
    pub fn u64_le(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// Reads a CompactSize, rejecting non-canonical encodings.
    pub fn varint(&mut self) -> Result<u64, DecodeError> {
        let at = self.pos;
        let first = self.array::<1>()?[0];
        let (v, min) = match first {
            0xfd => (u16::from_le_bytes(self.array()?) as u64, 0xfd),
            0xfe => (u32::from_le_bytes(self.array()?) as u64, 0x1_0000),
            0xff => (self.u64_le()?, 0x1_0000_0000),
            n => return Ok(n as u64),
        };
        if v < min {
            return Err(DecodeError::NonCanonicalVarint(at));
        }
        Ok(v)
    }

    /// Reads a varint length, checking it can fit in the remaining data when
    /// each item takes at least `min_item_size` bytes.
    pub fn length(&mut self, min_item_size: usize) -> Result<usize, DecodeError> {
        let at = self.pos;
        let len = self.varint()?;
        if len.saturating_mul(min_item_size.max(1) as u64) > self.remaining() as u64 {
            return Err(DecodeError::TooLarge { at, len });
        }
        Ok(len as usize)
    }

    /// Reads a varint-prefixed byte string.
    pub fn var_bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let n = self.length(1)?;
        Ok(self.take(n)?.to_vec())
    }

    /// Fails if any bytes are left.
    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }
}

/// Writes a CompactSize.
pub fn write_varint(out: &mut Vec<u8>, n: u64) {
    match n {
        0..=0xfc => out.push(n as u8),
        0xfd..=0xffff => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xfe);
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        _ => {
            out.push(0xff);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
}

/// Size in bytes of the CompactSize encoding of `n`.
pub fn varint_len(n: u64) -> usize {
    match n {
        0..=0xfc => 1,
        0xfd..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

/// Writes a varint-prefixed byte string.
pub fn write_var_bytes(out: &mut Vec<u8>, b: &[u8]) {
    write_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// A value with a consensus encoding.
pub trait Encodable {
    /// Appends the encoding to `out`.
    fn encode_to(&self, out: &mut Vec<u8>);

    /// Length of the encoding in bytes, computed without encoding (types
    /// with variable-length fields override the default, which encodes).
    fn encoded_len(&self) -> usize {
        let mut v = Vec::new();
        self.encode_to(&mut v);
        v.len()
    }

    /// The encoding as a new vector (allocated once, at its exact length).
    fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.encoded_len());
        self.encode_to(&mut v);
        v
    }
}

/// Length of `b` encoded as var-bytes (CompactSize length, then the bytes).
pub fn var_bytes_len(b: &[u8]) -> usize {
    var_bytes_len_of(b.len())
}

/// Length of `len` bytes encoded as var-bytes, for a size worked out
/// before the bytes exist.
pub fn var_bytes_len_of(len: usize) -> usize {
    varint_len(len as u64) + len
}

/// A value that can be read from its consensus encoding.
pub trait Decodable: Sized {
    /// Reads one value from `r`.
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Decodes exactly `data` (no trailing bytes allowed).
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let v = Self::decode_from(&mut r)?;
        r.finish()?;
        Ok(v)
    }

    /// Decodes a hex string (surrounding whitespace ignored).
    fn from_hex(s: &str) -> Result<Self, DecodeError> {
        let bytes = hex::decode(s.trim()).map_err(|e| DecodeError::InvalidHex(e.to_string()))?;
        Self::decode(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trip_and_boundaries() {
        for n in [
            0u64,
            1,
            0xfc,
            0xfd,
            0xffff,
            0x1_0000,
            0xffff_ffff,
            0x1_0000_0000,
            u64::MAX,
        ] {
            let mut v = Vec::new();
            write_varint(&mut v, n);
            assert_eq!(v.len(), varint_len(n));
            let mut r = Reader::new(&v);
            assert_eq!(r.varint().unwrap(), n);
            r.finish().unwrap();
        }
    }

    #[test]
    fn non_canonical_varint_rejected() {
        let mut r = Reader::new(&[0xfd, 0x10, 0x00]);
        assert_eq!(r.varint(), Err(DecodeError::NonCanonicalVarint(0)));
    }
}
