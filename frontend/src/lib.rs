//! Hydrates the page the server rendered: the forms already work without this, and with it they
//! submit in place, keep what was typed, and show errors without a reload.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
