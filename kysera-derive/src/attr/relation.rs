//! Relation attributes on the struct: `belongs_to(User, foreign_key = "author_id")`,
//! `has_many(Post)`, `has_one(Profile)`, `many_to_many(Tag, through = PostTag)`, each with an
//! optional `name = "..."` for the generated loader (`load_<name>`).

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;

use crate::ctxt::Ctxt;
use crate::symbol::*;

/// Which way a relation points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// This model holds the foreign key.
    BelongsTo,
    /// The target holds a foreign key to this model; many rows per parent.
    HasMany,
    /// The target holds a foreign key to this model; one row per parent.
    HasOne,
    /// A join model holds foreign keys to this model and to the target.
    ManyToMany,
}

impl Kind {
    /// The attribute key.
    pub fn key(self) -> &'static str {
        match self {
            Kind::BelongsTo => BELONGS_TO,
            Kind::HasMany => HAS_MANY,
            Kind::HasOne => HAS_ONE,
            Kind::ManyToMany => MANY_TO_MANY,
        }
    }

    fn options(self) -> &'static [&'static str] {
        match self {
            Kind::BelongsTo => &[FOREIGN_KEY, NAME],
            Kind::HasMany | Kind::HasOne => &[NAME],
            Kind::ManyToMany => &[THROUGH, NAME],
        }
    }
}

/// One relation attribute.
pub struct Relation {
    /// Its kind.
    pub kind: Kind,
    /// The related model (`User`, `crate::models::Tag`).
    pub target: syn::Path,
    /// `foreign_key = "..."` (belongs_to only).
    pub foreign_key: Option<syn::LitStr>,
    /// `through = JoinModel` (many_to_many only).
    pub through: Option<syn::Path>,
    /// `name = "..."`: the loader is `load_<name>`.
    pub name: Option<syn::LitStr>,
    /// The attribute key's span, for errors about the relation as a whole.
    pub span: Span,
}

/// The key of `meta` when it names a relation.
pub fn kind_of(meta: &ParseNestedMeta) -> Option<Kind> {
    [
        Kind::BelongsTo,
        Kind::HasMany,
        Kind::HasOne,
        Kind::ManyToMany,
    ]
    .into_iter()
    .find(|k| meta.path.is_ident(k.key()))
}

/// Parses `(Target, key = value, ...)` after a relation key.
pub fn parse(cx: &Ctxt, kind: Kind, meta: &ParseNestedMeta) -> syn::Result<Relation> {
    let span = meta.path.span();
    let content;
    syn::parenthesized!(content in meta.input);
    let target: syn::Path = content.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!(
                "expected the related model: `{}(User{})`",
                kind.key(),
                if kind == Kind::ManyToMany {
                    ", through = UserRole"
                } else {
                    ""
                }
            ),
        )
    })?;
    let mut relation = Relation {
        kind,
        target,
        foreign_key: None,
        through: None,
        name: None,
        span,
    };
    while !content.is_empty() {
        content.parse::<syn::Token![,]>()?;
        if content.is_empty() {
            break;
        }
        let key: syn::Ident = content.parse()?;
        content.parse::<syn::Token![=]>()?;
        let allowed = kind.options();
        let duplicate = match key.to_string().as_str() {
            FOREIGN_KEY if allowed.contains(&FOREIGN_KEY) => {
                let lit: syn::LitStr = content.parse()?;
                if !super::container::is_identifier(&lit.value()) {
                    cx.error_spanned_by(&lit, "foreign_key must name a column of this struct");
                }
                relation.foreign_key.replace(lit).is_some()
            }
            THROUGH if allowed.contains(&THROUGH) => {
                relation.through.replace(content.parse()?).is_some()
            }
            NAME if allowed.contains(&NAME) => {
                let lit: syn::LitStr = content.parse()?;
                if !super::container::is_identifier(&lit.value()) {
                    cx.error_spanned_by(
                        &lit,
                        "name must be a valid identifier: the loader is `load_<name>`",
                    );
                }
                relation.name.replace(lit).is_some()
            }
            other => {
                content.parse::<syn::Expr>()?;
                let help = match closest(other, allowed) {
                    Some(key) => format!("help: did you mean `{key}`?"),
                    None => format!("help: expected {}", one_of(allowed)),
                };
                cx.error_spanned_by(
                    &key,
                    format!("unknown option `{other}` of `{}`\n{help}", kind.key()),
                );
                false
            }
        };
        if duplicate {
            cx.error_spanned_by(
                &key,
                format!("duplicate option `{key}`\nhelp: remove the second `{key}`"),
            );
        }
    }
    if kind == Kind::ManyToMany && relation.through.is_none() {
        cx.error_spanned_by(
            &meta.path,
            "`many_to_many` needs its join model\nhelp: `many_to_many(Tag, through = PostTag)`, where `PostTag` has `belongs_to(Post)` and `belongs_to(Tag)`",
        );
    }
    Ok(relation)
}

impl Relation {
    /// The related model's name (`Tag` for `crate::models::Tag`).
    fn target_name(&self) -> String {
        self.target
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default()
    }

    /// The foreign-key column of a `belongs_to`: `foreign_key`, else `<target>_id`
    /// (`belongs_to(BlogPost)` → `blog_post_id`).
    pub fn foreign_key_column(&self) -> String {
        match &self.foreign_key {
            Some(lit) => lit.value(),
            None => format!("{}_id", crate::ast::snake_case(&self.target_name())),
        }
    }

    /// The loader's name without `load_`: `name`, else what the relation reads as: the
    /// foreign key without `_id` for a `belongs_to` (`author_id` → `author`), the target in
    /// snake case for a `has_one`, and its plural for `has_many` and `many_to_many`.
    pub fn loader_name(&self) -> String {
        if let Some(lit) = &self.name {
            return lit.value();
        }
        let target = crate::ast::snake_case(&self.target_name());
        match self.kind {
            Kind::BelongsTo => {
                let fk = self.foreign_key_column();
                match fk.strip_suffix("_id") {
                    Some(stem) if !stem.is_empty() => stem.to_string(),
                    _ => target,
                }
            }
            Kind::HasOne => target,
            Kind::HasMany | Kind::ManyToMany => plural(&target),
        }
    }
}

/// English plural of a snake-case name, for the usual cases (`post` → `posts`, `category` →
/// `categories`, `address` → `addresses`); `name = "..."` covers the rest.
fn plural(word: &str) -> String {
    let consonant_y = word.len() > 1
        && word.ends_with('y')
        && !matches!(
            word.as_bytes()[word.len() - 2],
            b'a' | b'e' | b'i' | b'o' | b'u'
        );
    if consonant_y {
        format!("{}ies", &word[..word.len() - 1])
    } else if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|end| word.ends_with(end))
    {
        format!("{word}es")
    } else {
        format!("{word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::plural;

    #[test]
    fn plurals() {
        assert_eq!(plural("post"), "posts");
        assert_eq!(plural("category"), "categories");
        assert_eq!(plural("key"), "keys");
        assert_eq!(plural("address"), "addresses");
        assert_eq!(plural("blog_post"), "blog_posts");
    }
}
