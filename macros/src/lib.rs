//! Procedural macros for scopegate. Use them through the `scopegate` crate.
use proc_macro::TokenStream;

/// Declares a scoped route. See the `scopegate` crate docs.
#[proc_macro_attribute]
pub fn route(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Declares a group of scoped routes. See the `scopegate` crate docs.
#[proc_macro_attribute]
pub fn routes(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
