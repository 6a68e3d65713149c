use std::borrow::Cow;

use bytes::Bytes;

/// An image's bytes as they arrived: the pieces the HTTP server read them in, never joined.
/// Joining a 4 MiB raw upload would copy it once more for nothing (the largest CPU cost of a
/// raw upload after the sockets themselves); S3 takes the pieces as they are. Cloning only
/// bumps reference counts, which is what lets the SDK retry the upload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageBytes {
    pieces: Vec<Bytes>,
    len: usize,
}

impl ImageBytes {
    pub fn push(&mut self, piece: Bytes) {
        if !piece.is_empty() {
            self.len += piece.len();
            self.pieces.push(piece);
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn pieces(&self) -> &[Bytes] {
        &self.pieces
    }

    /// The first `n` bytes (fewer if the image is shorter): borrowed when the first piece
    /// holds them, as it does unless a client sends a body in tiny chunks.
    pub fn head(&self, n: usize) -> Cow<'_, [u8]> {
        let n = n.min(self.len);
        match self.pieces.first() {
            None => Cow::Borrowed(&[]),
            Some(first) if first.len() >= n => Cow::Borrowed(&first[..n]),
            Some(_) => {
                let mut head = Vec::with_capacity(n);
                for piece in &self.pieces {
                    let wanted = n - head.len();
                    head.extend_from_slice(&piece[..wanted.min(piece.len())]);
                    if head.len() == n {
                        break;
                    }
                }
                Cow::Owned(head)
            }
        }
    }

    /// One contiguous buffer: free for a single piece, a copy otherwise (for reading back in
    /// tests and tools, not on the upload path).
    pub fn to_bytes(&self) -> Bytes {
        match self.pieces.as_slice() {
            [] => Bytes::new(),
            [one] => one.clone(),
            many => Bytes::from(many.concat()),
        }
    }
}

impl From<Bytes> for ImageBytes {
    fn from(bytes: Bytes) -> Self {
        let mut image = Self::default();
        image.push(bytes);
        image
    }
}

impl From<Vec<u8>> for ImageBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Bytes::from(bytes).into()
    }
}

impl FromIterator<Bytes> for ImageBytes {
    fn from_iter<I: IntoIterator<Item = Bytes>>(pieces: I) -> Self {
        let mut image = Self::default();
        pieces.into_iter().for_each(|piece| image.push(piece));
        image
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(data: &[u8], sizes: &[usize]) -> ImageBytes {
        let mut rest = Bytes::copy_from_slice(data);
        let mut image: ImageBytes = sizes.iter().map(|&n| rest.split_to(n)).collect();
        image.push(rest);
        image
    }

    #[test]
    fn head_spans_pieces_and_stops_at_the_end() {
        let data = b"0123456789";
        let image = split(data, &[1, 0, 2, 3]);
        assert_eq!(image.pieces().len(), 4, "empty pieces are dropped");
        assert_eq!(image.len(), 10);
        for n in 0..=12 {
            assert_eq!(&*image.head(n), &data[..n.min(10)], "head({n})");
        }
        assert!(matches!(image.head(1), Cow::Borrowed(_)));
        assert!(matches!(image.head(2), Cow::Owned(_)));
        assert_eq!(&image.to_bytes()[..], data);
    }

    #[test]
    fn a_single_piece_is_never_copied() {
        let bytes = Bytes::from_static(b"abc");
        let image = ImageBytes::from(bytes.clone());
        assert_eq!(image.to_bytes().as_ptr(), bytes.as_ptr());
        assert!(matches!(image.head(3), Cow::Borrowed(_)));
        assert!(ImageBytes::default().is_empty());
        assert_eq!(&*ImageBytes::default().head(4), b"");
    }
}
