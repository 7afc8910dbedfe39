//! `embed_migrations!("dir")`: the migrations of a directory as `include_str!`s, so the
//! binary carries them and cargo rebuilds when a script changes.

use proc_macro2::TokenStream;
use quote::quote;

/// Expands to `&[::kysera::migrate::EmbeddedMigration { ... }, ...]`.
pub fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let dir = if input.is_empty() {
        "migrations".to_string()
    } else {
        syn::parse2::<syn::LitStr>(input)?.value()
    };
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let path = std::path::Path::new(&root).join(&dir);
    let span = proc_macro2::Span::call_site();
    let entries = std::fs::read_dir(&path).map_err(|e| {
        syn::Error::new(
            span,
            format!("cannot read migrations directory `{}`: {e}", path.display()),
        )
    })?;
    let mut dirs: Vec<_> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.join("up.sql").is_file())
        .collect();
    dirs.sort();
    let items = dirs.iter().map(|d| {
        let name = d
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = |f: &str| {
            let p = d.join(f);
            match p.is_file() {
                true => {
                    let p = p.to_string_lossy().into_owned();
                    quote!(::core::option::Option::Some(::core::include_str!(#p)))
                }
                false => quote!(::core::option::Option::None),
            }
        };
        let up = d.join("up.sql").to_string_lossy().into_owned();
        let (down, metadata) = (file("down.sql"), file("metadata.toml"));
        quote! {
            ::kysera::migrate::EmbeddedMigration {
                name: #name,
                up: ::core::include_str!(#up),
                down: #down,
                metadata: #metadata,
            }
        }
    });
    Ok(quote!(&[#(#items),*]))
}
