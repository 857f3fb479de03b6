//! Sizes and durations as people read them: "7.2 MB", "2 min 29 s".
//!
//! Decimal units (1 MB = 1,000,000 bytes), as the platforms write their limits. Integer arithmetic
//! only, and no formatting machinery beyond `write!` of integers: this ships in the wasm.

use std::fmt;

/// A number of bytes, shown with one decimal below 100 of its unit: "512 bytes", "75 KB",
/// "7.2 MB", "10 GB".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.0;
        if bytes < 1000 {
            return write!(f, "{bytes} bytes");
        }
        let mut unit = 1000u64;
        let mut names = ["KB", "MB", "GB", "TB"].into_iter();
        let mut name = names.next().unwrap_or("KB");
        // Climb while the rounded value would read 1000 or more of this unit.
        while bytes.saturating_add(unit / 2) >= unit * 1000 {
            match names.next() {
                Some(next) => {
                    unit *= 1000;
                    name = next;
                }
                None => break,
            }
        }
        tenths(f, (u128::from(bytes) * 10 + u128::from(unit) / 2) / u128::from(unit))?;
        write!(f, " {name}")
    }
}

/// Writes tenths as "7.2", "75" (no ".0"), and whole numbers at 100 and over.
fn tenths(f: &mut fmt::Formatter<'_>, tenths: u128) -> fmt::Result {
    let (whole, tenth) = (tenths / 10, tenths % 10);
    if tenth == 0 || whole >= 100 {
        write!(f, "{}", if whole >= 100 { (tenths + 5) / 10 } else { whole })
    } else {
        write!(f, "{whole}.{tenth}")
    }
}

/// A duration in milliseconds: "0.5 s", "3 s", "2 min 29 s", "30 min", "4 h", "1 h 5 min".
///
/// Seconds show tenths below a minute; from a minute on, whole seconds (cut, not rounded, so a
/// video of 2:29.35 is "2 min 29 s", as X words it). [`HumanDuration::precise`] keeps the tenths
/// (used where two durations would otherwise read the same).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HumanDuration {
    /// The duration in milliseconds.
    pub ms: u64,
    /// Whether tenths of a second are shown past the first minute.
    pub precise: bool,
}

impl HumanDuration {
    /// A duration shown as people say it.
    pub fn new(ms: u64) -> HumanDuration {
        HumanDuration { ms, precise: false }
    }

    /// A duration shown to the tenth of a second.
    pub fn precise(ms: u64) -> HumanDuration {
        HumanDuration { ms, precise: true }
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.ms;
        let (hours, minutes, seconds) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60);
        let tenth = ms / 100 % 10;
        if hours > 0 {
            write!(f, "{hours} h")?;
            if minutes > 0 {
                write!(f, " {minutes} min")?;
            }
            if self.precise && !ms.is_multiple_of(60_000) {
                write!(f, " {seconds}.{tenth} s")?;
            }
            return Ok(());
        }
        if minutes > 0 {
            write!(f, "{minutes} min")?;
            if self.precise && tenth != 0 {
                return write!(f, " {seconds}.{tenth} s");
            }
            if seconds > 0 {
                write!(f, " {seconds} s")?;
            }
            return Ok(());
        }
        if tenth == 0 { write!(f, "{seconds} s") } else { write!(f, "{seconds}.{tenth} s") }
    }
}

/// A count of pixels in megapixels with one decimal: "36.2 megapixels".
pub(crate) struct Megapixels(pub u64);

impl fmt::Display for Megapixels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        tenths(f, (u128::from(self.0) + 50_000) / 100_000)?;
        f.write_str(" megapixels")
    }
}

/// A frame rate in thousandths: "60 fps", "29.97 fps".
pub(crate) struct FrameRate(pub u32);

impl fmt::Display for FrameRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, mut milli) = (self.0 / 1000, self.0 % 1000);
        if milli == 0 {
            return write!(f, "{whole} fps");
        }
        let mut width = 3;
        while milli % 10 == 0 {
            milli /= 10;
            width -= 1;
        }
        write!(f, "{whole}.{milli:0width$} fps")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        let cases = [
            (0, "0 bytes"),
            (999, "999 bytes"),
            (1000, "1 KB"),
            (75_000, "75 KB"),
            (7_200_000, "7.2 MB"),
            (5_000_000, "5 MB"),
            (9_999_999, "10 MB"),
            (999_960, "1 MB"),
            (512_000_000, "512 MB"),
            (300_123_456, "300 MB"),
            (10_000_000_000, "10 GB"),
        ];
        for (bytes, words) in cases {
            assert_eq!(ByteSize(bytes).to_string(), words, "{bytes}");
        }
    }

    #[test]
    fn durations_read_as_people_say_them() {
        let cases = [
            (500, "0.5 s"),
            (3_000, "3 s"),
            (140_000, "2 min 20 s"),
            (149_350, "2 min 29 s"),
            (1_800_000, "30 min"),
            (14_400_000, "4 h"),
            (3_900_000, "1 h 5 min"),
        ];
        for (ms, words) in cases {
            assert_eq!(HumanDuration::new(ms).to_string(), words, "{ms}");
        }
        assert_eq!(HumanDuration::precise(140_300).to_string(), "2 min 20.3 s");
    }

    #[test]
    fn pixels_and_frame_rates() {
        assert_eq!(Megapixels(36_152_319).to_string(), "36.2 megapixels");
        assert_eq!(Megapixels(48_000_000).to_string(), "48 megapixels");
        assert_eq!(FrameRate(60_000).to_string(), "60 fps");
        assert_eq!(FrameRate(29_970).to_string(), "29.97 fps");
        assert_eq!(FrameRate(120_500).to_string(), "120.5 fps");
    }
}
