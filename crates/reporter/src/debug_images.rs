//! The images loaded in this process (the executable and its shared objects) with
//! their build ids, sent as Sentry's `debug_meta` with every event that has a stack,
//! so that the collector can name the frames of a stripped binary from its debug file.
//! Read once per process, in the worker thread, never on the request path.

use std::sync::OnceLock;

use findshlibs::{SharedLibrary, SharedLibraryId, TargetSharedLibrary};
use mayday_protocol::{DebugImage, DebugMeta, Frame, debug_id_of_build_id};

/// One image as read: where it is in memory, and what the event says of it.
#[derive(Debug, Clone)]
struct Loaded {
    start: u64,
    end: u64,
    image: DebugImage,
}

fn loaded() -> &'static [Loaded] {
    static IMAGES: OnceLock<Vec<Loaded>> = OnceLock::new();
    IMAGES.get_or_init(read)
}

fn read() -> Vec<Loaded> {
    let executable = std::env::current_exe()
        .ok()
        .map(|p| p.to_string_lossy().into_owned());
    let mut images = Vec::new();
    TargetSharedLibrary::each(|library| {
        let Some(SharedLibraryId::GnuBuildId(build_id)) = library.id() else {
            return;
        };
        let start = library.actual_load_addr().0 as u64;
        let size = library.len() as u64;
        if start == usize::MAX as u64 || size == 0 {
            return;
        }
        let name = library.name().to_string_lossy().into_owned();
        // The executable has no name of its own in the loader's list.
        let code_file = if name.is_empty() {
            executable.clone()
        } else {
            Some(name)
        };
        let code_id: String = build_id.iter().map(|b| format!("{b:02x}")).collect();
        images.push(Loaded {
            start,
            end: start.saturating_add(size),
            image: DebugImage {
                ty: "elf".into(),
                debug_id: Some(debug_id_of_build_id(&build_id)),
                code_id: Some(code_id),
                image_addr: Some(format!("{start:#x}")),
                image_size: Some(size),
                image_vmaddr: Some(format!("{:#x}", library.stated_load_addr().0)),
                code_file,
                ..Default::default()
            },
        });
    });
    images
}

/// The `debug_meta` of this process, or `None` where images cannot be read.
pub(crate) fn debug_meta() -> Option<DebugMeta> {
    let images = loaded();
    (!images.is_empty()).then(|| DebugMeta {
        images: images.iter().map(|l| l.image.clone()).collect(),
        ..Default::default()
    })
}

/// Gives each frame with an address the address of the image holding it.
pub(crate) fn mark_images(frames: &mut [Frame]) {
    let images = loaded();
    for frame in frames {
        let Some(address) = frame
            .instruction_addr
            .as_deref()
            .and_then(mayday_protocol::parse_addr)
        else {
            continue;
        };
        if let Some(image) = images
            .iter()
            .find(|i| i.start <= address && address < i.end)
        {
            frame.image_addr.clone_from(&image.image.image_addr);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_executable_is_among_the_images_with_its_build_id() {
        let meta = debug_meta().expect("images on Linux");
        let exe = std::env::current_exe()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let image = meta
            .images
            .iter()
            .find(|i| i.code_file.as_deref() == Some(exe.as_str()))
            .expect("the test binary");
        assert_eq!(image.ty, "elf");
        let code_id = image.code_id.as_deref().unwrap();
        assert!(code_id.len() >= 16, "{code_id}");
        assert_eq!(image.debug_id.as_deref().unwrap().len(), 36);
        // An address of this very function is inside it.
        let here = the_executable_is_among_the_images_with_its_build_id as fn() as usize as u64;
        let mut frames = vec![Frame {
            instruction_addr: Some(format!("{here:#x}")),
            ..Default::default()
        }];
        mark_images(&mut frames);
        assert_eq!(frames[0].image_addr, image.image_addr);
    }
}
