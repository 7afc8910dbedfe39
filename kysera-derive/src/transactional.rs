//! `#[transactional]`: wraps a function's body in a transaction on its `&Conn` parameter.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ItemFn, LitInt, LitStr, Pat, ReturnType, Type};

/// What the attribute's arguments ask for.
#[derive(Default)]
struct Args {
    isolation: Option<(LitStr, TokenStream)>,
    retries: Option<u32>,
    read_only: bool,
    conn: Option<Ident>,
}

const LEVELS: &[(&str, &str)] = &[
    ("read_uncommitted", "ReadUncommitted"),
    ("read_committed", "ReadCommitted"),
    ("repeatable_read", "RepeatableRead"),
    ("serializable", "Serializable"),
];

fn parse_args(args: TokenStream) -> syn::Result<Args> {
    let mut parsed = Args::default();
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("isolation") {
            let level: LitStr = meta.value()?.parse()?;
            let text = level.value().to_ascii_lowercase().replace([' ', '-'], "_");
            let Some((_, variant)) = LEVELS.iter().find(|(name, _)| *name == text) else {
                return Err(syn::Error::new(
                    level.span(),
                    "unknown isolation level: expected \"read_uncommitted\", \"read_committed\", \"repeatable_read\" or \"serializable\"",
                ));
            };
            let variant = Ident::new(variant, level.span());
            parsed.isolation = Some((level, quote!(::kysera::Isolation::#variant)));
            Ok(())
        } else if meta.path.is_ident("retries") {
            let count: LitInt = meta.value()?.parse()?;
            parsed.retries = Some(count.base10_parse()?);
            Ok(())
        } else if meta.path.is_ident("read_only") {
            parsed.read_only = true;
            Ok(())
        } else if meta.path.is_ident("conn") {
            parsed.conn = Some(meta.value()?.parse()?);
            Ok(())
        } else {
            Err(meta.error(
                "unknown argument: expected `isolation = \"...\"`, `retries = N`, `read_only` or `conn = parameter`",
            ))
        }
    });
    syn::parse::Parser::parse2(parser, args)?;
    Ok(parsed)
}

/// The name of the parameter the transaction runs on: the one `conn = ...` names, or the
/// first whose type is `&Conn` (any path ending in `Conn`).
fn conn_param(function: &ItemFn, named: Option<&Ident>) -> syn::Result<Ident> {
    let params = function.sig.inputs.iter().filter_map(|arg| match arg {
        FnArg::Typed(typed) => match &*typed.pat {
            Pat::Ident(ident) => Some((ident.ident.clone(), &*typed.ty)),
            _ => None,
        },
        FnArg::Receiver(_) => None,
    });
    let mut params: Vec<(Ident, &Type)> = params.collect();
    if let Some(named) = named {
        return params
            .drain(..)
            .find(|(ident, _)| ident == named)
            .map(|(ident, _)| ident)
            .ok_or_else(|| syn::Error::new(named.span(), format!("no parameter named `{named}`")));
    }
    params
        .into_iter()
        .find(|(_, ty)| is_conn_ref(ty))
        .map(|(ident, _)| ident)
        .ok_or_else(|| {
            let span = if function.sig.inputs.is_empty() {
                function.sig.ident.span()
            } else {
                function.sig.inputs.span()
            };
            syn::Error::new(
                span,
                "#[transactional] needs a `&Conn` parameter to run the transaction on; \
                 name another with #[transactional(conn = parameter)]",
            )
        })
}

fn is_conn_ref(ty: &Type) -> bool {
    let Type::Reference(reference) = ty else {
        return false;
    };
    let Type::Path(path) = &*reference.elem else {
        return false;
    };
    path.path
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "Conn")
}

pub fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = parse_args(args)?;
    let mut function: ItemFn = syn::parse2(item)?;
    if let Some(asyncness) = &function.sig.asyncness {
        return Err(syn::Error::new(
            asyncness.span(),
            "#[transactional] wraps synchronous functions: kysera runs on Diesel's blocking connections",
        ));
    }
    let ReturnType::Type(_, output) = &function.sig.output else {
        return Err(syn::Error::new(
            function.sig.ident.span(),
            "#[transactional] functions return a `Result` (an `Err` rolls the transaction back)",
        ));
    };
    let output = output.clone();
    let conn = conn_param(&function, args.conn.as_ref())?;

    let mut options = quote!(::kysera::TransactionOptions::new());
    if let Some((_, level)) = &args.isolation {
        options = quote!(#options.isolation(#level));
    }
    if args.read_only {
        options = quote!(#options.read_only());
    }
    let retries = args.retries.unwrap_or(0);
    if retries > 0 {
        options = quote!(#options.retries(#retries));
    }
    let body = &function.block;
    // With retries the body may run more than once, so it is an `FnMut` closure; without,
    // an `FnOnce`, so the body may consume its arguments as a plain function body can.
    let run = if retries > 0 {
        quote_spanned!(Span::call_site()=> ::kysera::__private::transaction_retrying)
    } else {
        quote_spanned!(Span::call_site()=> ::kysera::__private::transaction_once)
    };
    let wrapped: syn::Block = syn::parse2(quote! {{
        let __kysera_options = #options;
        #run(#conn, &__kysera_options, move |#conn: &::kysera::Conn| -> #output #body)
    }})?;
    *function.block = wrapped;
    Ok(quote!(#function))
}
