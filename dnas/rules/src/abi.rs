//! The wasm ABI the embedded conductor calls (no imports, no wasm-bindgen):
//! `alloc(len) -> ptr`, `dealloc(ptr, len)`, `validate(ptr, len) -> (out_ptr << 32) | out_len`, where the
//! input is the UTF-8 JSON of a ValidationInput and the output the UTF-8 JSON of a ValidationOutcome.
//! The caller deallocs both buffers.
use std::alloc::Layout;

fn layout(len: u32) -> Layout {
    // Zero-sized allocations are not allowed; a 1-byte floor keeps alloc/dealloc symmetric.
    Layout::from_size_align(len.max(1) as usize, 1).expect("byte layout")
}

#[no_mangle]
pub extern "C" fn alloc(len: u32) -> u32 {
    // SAFETY: the layout has a non-zero size.
    unsafe { std::alloc::alloc(layout(len)) as u32 }
}

/// # Safety
/// `ptr` must come from `alloc(len)` (or be a `validate` output of length `len`) and not be freed yet.
#[no_mangle]
pub unsafe extern "C" fn dealloc(ptr: u32, len: u32) {
    std::alloc::dealloc(ptr as *mut u8, layout(len))
}

/// # Safety
/// `ptr..ptr+len` must be memory the caller owns (from `alloc`).
#[no_mangle]
pub unsafe extern "C" fn validate(ptr: u32, len: u32) -> u64 {
    let input = std::slice::from_raw_parts(ptr as *const u8, len as usize);
    let json = serde_json::to_vec(&crate::validate_json(input)).expect("an Outcome always serialises");
    let out_len = json.len() as u32;
    let out = alloc(out_len);
    std::ptr::copy_nonoverlapping(json.as_ptr(), out as *mut u8, json.len());
    ((out as u64) << 32) | out_len as u64
}
