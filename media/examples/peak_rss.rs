//! Measures the peak memory (VmHWM) of inspecting one file, in a process of its own.
//!
//! ```sh
//! cargo run --release -p crier-media --features inspect --example peak_rss -- make-jpeg /tmp/24mp.jpg 6000 4000 1
//! cargo run --release -p crier-media --features inspect --example peak_rss -- make-mp4 /tmp/300mb.mp4 300
//! cargo run --release -p crier-media --features inspect --example peak_rss -- inspect /tmp/24mp.jpg
//! ```
//!
//! The files are made by separate runs, so that making them (streamed too) does not count.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use crier_media::inspect::{InspectLimits, inspect};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_else(|| usage());
    match arg(0) {
        "make-jpeg" => {
            make_jpeg(Path::new(arg(1)), number(arg(2)), number(arg(3)), number(arg(4)), args.get(5).is_some_and(|a| a == "progressive"))
        }
        "make-mp4" => make_mp4(Path::new(arg(1)), number(arg(2)).into()),
        "inspect" => {
            let input = Path::new(arg(1));
            let output = input.with_extension("published");
            let before = peak_kib();
            let started = std::time::Instant::now();
            let result = inspect(input, &output, &InspectLimits::default());
            let elapsed = started.elapsed();
            match result {
                Ok(inspected) => println!(
                    "facts: {:?}\nmetadata removed: {}, thumbnail: {} bytes",
                    inspected.facts,
                    inspected.metadata_removed,
                    inspected.thumbnail.map_or(0, |t| t.len())
                ),
                Err(refusal) => println!("refused: {refusal}"),
            }
            println!("peak RSS (VmHWM): {} KiB before, {} KiB after; {elapsed:.2?}", before, peak_kib());
            let _ = std::fs::remove_file(output);
        }
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!("usage: peak_rss make-jpeg PATH WIDTH HEIGHT ORIENTATION [progressive] | make-mp4 PATH MEGABYTES | inspect PATH");
    std::process::exit(2)
}

fn number(text: &str) -> u16 {
    text.parse().unwrap_or_else(|_| usage())
}

/// The process's peak resident set, from /proc/self/status.
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A photo-like picture (gradients and noise, so it compresses like a photo), generated row by row.
struct Photo {
    width: u16,
    height: u16,
}

impl jpeg_encoder::ImageBuffer for Photo {
    fn get_jpeg_color_type(&self) -> jpeg_encoder::JpegColorType {
        jpeg_encoder::JpegColorType::Ycbcr
    }

    fn width(&self) -> u16 {
        self.width
    }

    fn height(&self) -> u16 {
        self.height
    }

    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        for x in 0..self.width {
            let noise = (u32::from(x).wrapping_mul(2_654_435_761) ^ u32::from(y).wrapping_mul(40_503)) >> 27;
            let r = (u32::from(x) * 255 / u32::from(self.width)) as u8;
            let g = (u32::from(y) * 255 / u32::from(self.height)) as u8;
            let b = (noise * 8) as u8;
            let (luma, cb, cr) = jpeg_encoder::rgb_to_ycbcr(r, g, b);
            buffers[0].push(luma);
            buffers[1].push(cb);
            buffers[2].push(cr);
        }
    }
}

/// A JPEG as cameras and phones write them: 4:2:0 chroma, baseline (or progressive).
fn make_jpeg(path: &Path, width: u16, height: u16, orientation: u16, progressive: bool) {
    let file = BufWriter::new(File::create(path).expect("create"));
    let mut encoder = jpeg_encoder::Encoder::new(file, 90);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    encoder.set_progressive(progressive);
    let mut exif = b"Exif\0\0MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
    exif.extend_from_slice(&orientation.to_be_bytes());
    exif.extend_from_slice(&[0; 6]);
    encoder.add_app_segment(1, exif).expect("exif");
    encoder.encode_image(Photo { width, height }).expect("encode");
    println!("{}: {} bytes", path.display(), std::fs::metadata(path).map_or(0, |m| m.len()));
}

fn iso_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut item = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    item.extend_from_slice(kind);
    item.extend_from_slice(body);
    item
}

/// ftyp, a moov with one H.264 track of 60 s at 30 fps and a location, and `megabytes` of mdat.
fn make_mp4(path: &Path, megabytes: u64) {
    let mut file = BufWriter::new(File::create(path).expect("create"));
    let mut mvhd = vec![0u8; 12];
    mvhd.extend_from_slice(&1000u32.to_be_bytes());
    mvhd.extend_from_slice(&60_000u32.to_be_bytes());
    mvhd.extend_from_slice(&[0u8; 80]);
    let mut tkhd = vec![0u8; 24 + 16];
    for value in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        tkhd.extend_from_slice(&value.to_be_bytes());
    }
    tkhd.extend_from_slice(&(1280u32 << 16).to_be_bytes());
    tkhd.extend_from_slice(&(720u32 << 16).to_be_bytes());
    let mut mdhd = vec![0u8; 12];
    mdhd.extend_from_slice(&30_000u32.to_be_bytes());
    mdhd.extend_from_slice(&(1800u32 * 1000).to_be_bytes());
    mdhd.extend_from_slice(&[0u8; 4]);
    let hdlr = [&[0u8; 8][..], b"vide", &[0u8; 13]].concat();
    let entry = [&[0u8; 6][..], &[0, 1], &[0u8; 16], &1280u16.to_be_bytes(), &720u16.to_be_bytes(), &[0u8; 50]].concat();
    let stsd = iso_box(b"stsd", &[&[0u8; 4][..], &1u32.to_be_bytes(), &iso_box(b"avc1", &entry)].concat());
    // One stts entry per sample, as a variable-frame-rate phone video has.
    let mut stts = vec![0u8; 4];
    stts.extend_from_slice(&1800u32.to_be_bytes());
    for _ in 0..1800 {
        stts.extend_from_slice(&1u32.to_be_bytes());
        stts.extend_from_slice(&1000u32.to_be_bytes());
    }
    let stbl = iso_box(b"stbl", &[stsd, iso_box(b"stts", &stts)].concat());
    let mdia = iso_box(b"mdia", &[iso_box(b"mdhd", &mdhd), iso_box(b"hdlr", &hdlr), iso_box(b"minf", &stbl)].concat());
    let trak = iso_box(b"trak", &[iso_box(b"tkhd", &tkhd), mdia].concat());
    let udta = iso_box(b"udta", &iso_box(b"\xA9xyz", b"\0\x13\x15\xC7+51.5074-000.1278/"));
    let moov = iso_box(b"moov", &[iso_box(b"mvhd", &mvhd), trak, udta].concat());
    file.write_all(&iso_box(b"ftyp", b"isom\0\0\x02\0isomavc1mp41")).expect("write");
    file.write_all(&moov).expect("write");
    let size = megabytes * 1_000_000;
    file.write_all(&((size + 8) as u32).to_be_bytes()).expect("write");
    file.write_all(b"mdat").expect("write");
    let block: Vec<u8> = (0..1_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    for _ in 0..megabytes {
        file.write_all(&block).expect("write");
    }
    file.flush().expect("flush");
    println!("{}: {} bytes", path.display(), std::fs::metadata(path).map_or(0, |m| m.len()));
}
