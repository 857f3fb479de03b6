//! Decoding pictures under limits, and thumbnails (shared by PNG, WebP, GIF and JPEG).

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, RgbImage};

use super::{InspectLimits, Refusal, damaged};
use crate::ContentType;

/// Refuses a picture with more pixels than the limit.
pub(super) fn check_pixels(width: u32, height: u32, limits: &InspectLimits) -> Result<(), Refusal> {
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(Refusal::TooManyPixels { width, height, max: limits.max_pixels });
    }
    Ok(())
}

/// Refuses a decode that would need more than [`InspectLimits::max_decode_bytes`].
pub(super) fn check_decode(width: u32, height: u32, needed: u64, limits: &InspectLimits) -> Result<(), Refusal> {
    if needed > limits.max_decode_bytes {
        return Err(Refusal::TooLargeToDecode { width, height, needed, max: limits.max_decode_bytes });
    }
    Ok(())
}

/// The `image` crate's limits from ours.
pub(super) fn image_limits(limits: &InspectLimits) -> image::Limits {
    let mut image_limits = image::Limits::default();
    image_limits.max_alloc = Some(limits.max_decode_bytes);
    image_limits
}

/// Decodes one picture (the first frame of an animation) with `decoder` under the limits,
/// with its EXIF orientation.
pub(super) fn decode(
    mut decoder: impl ImageDecoder,
    content_type: ContentType,
    limits: &InspectLimits,
) -> Result<(DynamicImage, Orientation), Refusal> {
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, limits)?;
    check_decode(width, height, decoder.total_bytes(), limits)?;
    decoder.set_limits(image_limits(limits)).map_err(|error| damaged(content_type, &error.to_string()))?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let picture = DynamicImage::from_decoder(decoder).map_err(|error| damaged(content_type, &error.to_string()))?;
    Ok((picture, orientation))
}

/// A JPEG thumbnail of `picture`, longest side at most [`InspectLimits::thumbnail_side`],
/// oriented, transparent parts on white.
pub(super) fn thumbnail(picture: &DynamicImage, orientation: Orientation, limits: &InspectLimits) -> Result<Vec<u8>, Refusal> {
    let side = limits.thumbnail_side.max(1);
    let mut small = if picture.width() > side || picture.height() > side {
        picture.resize(side, side, image::imageops::FilterType::Triangle)
    } else {
        picture.clone()
    };
    small.apply_orientation(orientation);
    let rgba = small.to_rgba8();
    let mut rgb = RgbImage::new(rgba.width(), rgba.height());
    for (to, from) in rgb.pixels_mut().zip(rgba.pixels()) {
        let alpha = u16::from(from[3]);
        for channel in 0..3 {
            to[channel] = ((u16::from(from[channel]) * alpha + 255 * (255 - alpha)) / 255) as u8;
        }
    }
    encode_jpeg_rgb(&rgb, limits.thumbnail_quality)
}

/// Encodes RGB pixels as a baseline JPEG.
pub(super) fn encode_jpeg_rgb(rgb: &RgbImage, quality: u8) -> Result<Vec<u8>, Refusal> {
    let mut jpeg = Vec::new();
    let (width, height) = (dimension(rgb.width())?, dimension(rgb.height())?);
    jpeg_encoder::Encoder::new(&mut jpeg, quality.clamp(1, 100))
        .encode(rgb.as_raw(), width, height, jpeg_encoder::ColorType::Rgb)
        .map_err(|error| Refusal::Unreadable { detail: error.to_string() })?;
    Ok(jpeg)
}

/// A dimension as JPEG stores it (at most 65,535).
pub(super) fn dimension(value: u32) -> Result<u16, Refusal> {
    u16::try_from(value).map_err(|_| Refusal::Unreadable { detail: format!("{value} pixels is too large for a JPEG") })
}
