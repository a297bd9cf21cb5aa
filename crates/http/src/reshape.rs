//! Serialising a value as an object with some members replaced, defaulted, transformed, removed or
//! added, straight to the output.
//!
//! The faces show domain types with a few members changed (dates in the zone, nested entities, computed
//! sums). Doing that on a `serde_json::Value` tree meant building an order-preserving map per object and
//! then writing it out: most of a list page's time. serde has no adapter that edits a type's members on
//! the way to the serializer, so this one is written here; it keeps the member order the `Value` edits
//! gave (members in the type's order, a replaced member where it was, new ones at the end in the order
//! they were declared).
//!
//! The values put in (nested entities, computed members) are of many types, so they are kept behind a
//! `dyn` [`Json`]. Each is written by serde_json's own serializer, monomorphised for its type, and
//! spliced into its parent as raw JSON text. Erasing the serializer instead (`erased-serde`, which this
//! module used first) wrapped one more layer of dynamic calls around every scalar at each level of
//! nesting: a fifth of a list page's time. Copying an item's bytes once per level costs far less.

use serde::ser::{Error as _, Impossible, Serialize, SerializeMap, SerializeStruct, Serializer};
use serde_json::Value;
use std::borrow::Cow;
use std::cell::RefCell;

/// A value of any serialisable type, to be written as JSON.
pub type Shown<'a> = Box<dyn Json + 'a>;

/// A value that writes itself as JSON text with serde_json's serializer for its own type.
pub trait Json {
    /// The value as JSON text.
    fn raw(&self) -> serde_json::Result<Box<serde_json::value::RawValue>>;

    /// Writes the value as JSON text at the end of `out`: an answer's members go straight into the
    /// answer's buffer, not first into texts of their own.
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()>;
}

impl<T: Serialize + ?Sized> Json for T {
    fn raw(&self) -> serde_json::Result<Box<serde_json::value::RawValue>> {
        serde_json::value::to_raw_value(self)
    }

    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, self)
    }
}

/// JSON text this server wrote itself (an order as it was shown), written out as it is. It is not
/// parsed again on its way out: serde_json's `RawValue` would check every byte of text that was
/// checked when it was written.
#[derive(Debug, Clone, Copy)]
pub struct RawText<'a>(pub &'a [u8]);

impl Json for RawText<'_> {
    fn raw(&self) -> serde_json::Result<Box<serde_json::value::RawValue>> {
        let text = std::str::from_utf8(self.0).map_err(serde::de::Error::custom)?;
        serde_json::value::RawValue::from_string(text.to_owned())
    }

    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        out.extend_from_slice(self.0);
        Ok(())
    }
}

/// Values written as one JSON array, each by its own type (a page of orders as they were shown, an
/// order line's prices).
#[derive(Debug, Clone)]
pub struct Array<T>(pub Vec<T>);

impl<T> Default for Array<T> {
    fn default() -> Self {
        Array(Vec::new())
    }
}

/// An [`Array`] written by serde (when it is itself a member of something serde writes).
struct ArraySer<'a, T>(&'a [T]);

impl<T: Json> Serialize for ArraySer<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(item as &dyn Json)?;
        }
        seq.end()
    }
}

impl<T: Json> Json for Array<T> {
    fn raw(&self) -> serde_json::Result<Box<serde_json::value::RawValue>> {
        serde_json::value::to_raw_value(&ArraySer(&self.0))
    }

    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        write_list(out, (b'[', b']'), &self.0, |out, item| item.write_json(out))
    }
}

/// Writes `items` between `open` and `close`, separated by commas, each by `each`.
fn write_list<I>(
    out: &mut Vec<u8>,
    (open, close): (u8, u8),
    items: impl IntoIterator<Item = I>,
    mut each: impl FnMut(&mut Vec<u8>, I) -> serde_json::Result<()>,
) -> serde_json::Result<()> {
    out.push(open);
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        each(out, item)?;
    }
    out.push(close);
    Ok(())
}

impl Serialize for dyn Json + '_ {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw().map_err(S::Error::custom)?.serialize(serializer)
    }
}

/// A change to one member.
enum Edit<'a> {
    /// Replace it where it is, or add it at the end.
    Set(Shown<'a>),
    /// Keep it if present, else add it at the end.
    Default(Shown<'a>),
    /// Transform it if present (read as a `Value`: for the few members that need their old value).
    With(Box<dyn Fn(Value) -> Value + 'a>),
    /// Leave it out (the other members keep their order).
    Remove,
}

/// `base` serialised as an object, with the edits applied on the way.
pub struct Reshaped<'a, T: ?Sized> {
    base: &'a T,
    edits: Vec<(&'a str, Edit<'a>)>,
}

impl<'a, T: Serialize + ?Sized> Reshaped<'a, T> {
    /// No edits yet.
    pub fn new(base: &'a T) -> Self {
        Reshaped { base, edits: Vec::new() }
    }

    fn push(mut self, key: &'a str, edit: Edit<'a>) -> Self {
        // As on a map: a later edit of the same member wins (keeping the first one's place among the
        // additions), except that a default does not undo a value already set.
        match self.edits.iter_mut().find(|(k, _)| *k == key) {
            Some((_, Edit::Set(_) | Edit::Default(_))) if matches!(edit, Edit::Default(_)) => {}
            Some((_, e)) => *e = edit,
            None => self.edits.push((key, edit)),
        }
        self
    }

    /// Sets `key` to `value` (in place, or added at the end).
    pub fn set(self, key: &'a str, value: impl Json + 'a) -> Self {
        self.push(key, Edit::Set(Box::new(value)))
    }

    /// Sets `key` to `value` unless the base has it.
    pub fn or_set(self, key: &'a str, value: impl Json + 'a) -> Self {
        self.push(key, Edit::Default(Box::new(value)))
    }

    /// Transforms `key`'s value when the base has it.
    pub fn with(self, key: &'a str, f: impl Fn(Value) -> Value + 'a) -> Self {
        self.push(key, Edit::With(Box::new(f)))
    }

    /// Leaves `key` out.
    pub fn remove(self, key: &'a str) -> Self {
        self.push(key, Edit::Remove)
    }
}

impl<T: Serialize + ?Sized> Serialize for Reshaped<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let seen = RefCell::new(vec![false; self.edits.len()]);
        self.base.serialize(Outer { inner: serializer, edits: &self.edits, seen: &seen })
    }
}

/// The serializer the base sees: it accepts an object (a struct or a map) and nothing else.
struct Outer<'r, 'a, S> {
    inner: S,
    edits: &'r [(&'a str, Edit<'a>)],
    seen: &'r RefCell<Vec<bool>>,
}

/// The base's members on their way to the real serializer's map.
struct Members<'r, 'a, M> {
    map: M,
    edits: &'r [(&'a str, Edit<'a>)],
    seen: &'r RefCell<Vec<bool>>,
    /// The member name `serialize_key` gave, for the `serialize_value` that follows.
    name: String,
    named: bool,
}

impl<M: SerializeMap> Members<'_, '_, M> {
    fn member<V: Serialize + ?Sized>(&mut self, key: &str, value: &V) -> Result<(), M::Error> {
        let Some(i) = self.edits.iter().position(|(k, _)| *k == key) else {
            return self.map.serialize_entry(key, value);
        };
        self.seen.borrow_mut()[i] = true;
        match &self.edits[i].1 {
            Edit::Set(v) => self.map.serialize_entry(key, v.as_ref()),
            Edit::Default(_) => self.map.serialize_entry(key, value),
            Edit::With(f) => {
                let old = serde_json::to_value(value).map_err(M::Error::custom)?;
                self.map.serialize_entry(key, &f(old))
            }
            Edit::Remove => Ok(()),
        }
    }

    fn finish(mut self) -> Result<M::Ok, M::Error> {
        let seen = self.seen.borrow();
        for ((key, edit), seen) in self.edits.iter().zip(seen.iter()) {
            if let (false, Edit::Set(v) | Edit::Default(v)) = (seen, edit) {
                self.map.serialize_entry(key, v.as_ref())?;
            }
        }
        self.map.end()
    }
}

impl<M: SerializeMap> SerializeMap for Members<'_, '_, M> {
    type Ok = M::Ok;
    type Error = M::Error;

    fn serialize_key<K: Serialize + ?Sized>(&mut self, key: &K) -> Result<(), M::Error> {
        self.name.clear();
        key.serialize(MemberName(&mut self.name))
            .map_err(|_| M::Error::custom("an object's member names must be strings"))?;
        self.named = true;
        Ok(())
    }

    fn serialize_value<V: Serialize + ?Sized>(&mut self, value: &V) -> Result<(), M::Error> {
        if !self.named {
            return Err(M::Error::custom("a value without its member name"));
        }
        self.named = false;
        // The name's buffer is reused for the next member (an entity with a flattened map of extra
        // members is written as a map, one name per member).
        let name = std::mem::take(&mut self.name);
        let done = self.member(&name, value);
        self.name = name;
        done
    }

    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), M::Error> {
        self.serialize_key(key)?;
        self.serialize_value(value)
    }

    fn end(self) -> Result<M::Ok, M::Error> {
        self.finish()
    }
}

impl<M: SerializeMap> SerializeStruct for Members<'_, '_, M> {
    type Ok = M::Ok;
    type Error = M::Error;

    fn serialize_field<V: Serialize + ?Sized>(&mut self, key: &'static str, value: &V) -> Result<(), M::Error> {
        self.member(key, value)
    }

    fn end(self) -> Result<M::Ok, M::Error> {
        self.finish()
    }
}

/// The refusal of a base that is not an object.
fn not_an_object_error<E: serde::ser::Error>() -> E {
    E::custom("only an object can be reshaped")
}

/// `Serializer` methods that refuse what they are given with `$err` (the serializers here each accept
/// a few shapes and refuse the rest).
macro_rules! refuse {
    ($err:expr; $($name:ident($($arg:ty),*) -> $ok:ty),* $(,)?) => {
        $(fn $name(self, $(_: $arg),*) -> Result<$ok, Self::Error> {
            Err($err)
        })*
    };
}

impl<'r, 'a, S: Serializer> Serializer for Outer<'r, 'a, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Impossible<S::Ok, S::Error>;
    type SerializeTuple = Impossible<S::Ok, S::Error>;
    type SerializeTupleStruct = Impossible<S::Ok, S::Error>;
    type SerializeTupleVariant = Impossible<S::Ok, S::Error>;
    type SerializeMap = Members<'r, 'a, S::SerializeMap>;
    type SerializeStruct = Members<'r, 'a, S::SerializeMap>;
    type SerializeStructVariant = Impossible<S::Ok, S::Error>;

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        // The edits change the number of members, so none is announced.
        let map = self.inner.serialize_map(None)?;
        Ok(Members { map, edits: self.edits, seen: self.seen, name: String::new(), named: false })
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, S::Error> {
        self.serialize_map(None)
    }

    refuse!(not_an_object_error();
        serialize_bool(bool) -> S::Ok,
        serialize_i8(i8) -> S::Ok,
        serialize_i16(i16) -> S::Ok,
        serialize_i32(i32) -> S::Ok,
        serialize_i64(i64) -> S::Ok,
        serialize_u8(u8) -> S::Ok,
        serialize_u16(u16) -> S::Ok,
        serialize_u32(u32) -> S::Ok,
        serialize_u64(u64) -> S::Ok,
        serialize_f32(f32) -> S::Ok,
        serialize_f64(f64) -> S::Ok,
        serialize_char(char) -> S::Ok,
        serialize_str(&str) -> S::Ok,
        serialize_bytes(&[u8]) -> S::Ok,
        serialize_none() -> S::Ok,
        serialize_unit() -> S::Ok,
        serialize_unit_struct(&'static str) -> S::Ok,
        serialize_unit_variant(&'static str, u32, &'static str) -> S::Ok,
        serialize_seq(Option<usize>) -> Self::SerializeSeq,
        serialize_tuple(usize) -> Self::SerializeTuple,
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct,
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant,
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant,
    );

    fn serialize_some<V: Serialize + ?Sized>(self, value: &V) -> Result<S::Ok, S::Error> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<V: Serialize + ?Sized>(self, _: &'static str, value: &V) -> Result<S::Ok, S::Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<V: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &V,
    ) -> Result<S::Ok, S::Error> {
        Err(not_an_object_error::<S::Error>())
    }
}

/// Takes down a member name as serde_json accepts one (text, a character or an integer) without
/// building a `Value` for it.
struct MemberName<'n>(&'n mut String);

/// What a member name may not be.
#[derive(Debug)]
struct NotAName;

impl std::fmt::Display for NotAName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a member name")
    }
}

impl std::error::Error for NotAName {}

impl serde::ser::Error for NotAName {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        NotAName
    }
}

/// Member names that are integers, written as their digits.
macro_rules! integer_names {
    ($($name:ident($ty:ty)),* $(,)?) => {
        $(fn $name(self, v: $ty) -> Result<(), NotAName> {
            use std::fmt::Write as _;
            write!(self.0, "{v}").map_err(|_| NotAName)
        })*
    };
}

impl Serializer for MemberName<'_> {
    type Ok = ();
    type Error = NotAName;
    type SerializeSeq = Impossible<(), NotAName>;
    type SerializeTuple = Impossible<(), NotAName>;
    type SerializeTupleStruct = Impossible<(), NotAName>;
    type SerializeTupleVariant = Impossible<(), NotAName>;
    type SerializeMap = Impossible<(), NotAName>;
    type SerializeStruct = Impossible<(), NotAName>;
    type SerializeStructVariant = Impossible<(), NotAName>;

    fn serialize_str(self, v: &str) -> Result<(), NotAName> {
        self.0.push_str(v);
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), NotAName> {
        self.0.push(v);
        Ok(())
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<(), NotAName> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<V: Serialize + ?Sized>(self, _: &'static str, value: &V) -> Result<(), NotAName> {
        value.serialize(self)
    }

    integer_names!(
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
    );

    refuse!(NotAName;
        serialize_bool(bool) -> (),
        serialize_f32(f32) -> (),
        serialize_f64(f64) -> (),
        serialize_bytes(&[u8]) -> (),
        serialize_none() -> (),
        serialize_unit() -> (),
        serialize_unit_struct(&'static str) -> (),
        serialize_seq(Option<usize>) -> Self::SerializeSeq,
        serialize_tuple(usize) -> Self::SerializeTuple,
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct,
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant,
        serialize_map(Option<usize>) -> Self::SerializeMap,
        serialize_struct(&'static str, usize) -> Self::SerializeStruct,
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant,
    );

    fn serialize_some<V: Serialize + ?Sized>(self, _: &V) -> Result<(), NotAName> {
        Err(NotAName)
    }

    fn serialize_newtype_variant<V: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &V,
    ) -> Result<(), NotAName> {
        Err(NotAName)
    }
}

/// Members written as one object in the given order: an answer's envelope without a `Value` tree.
pub struct Object<'a>(pub Vec<(Cow<'a, str>, Shown<'a>)>);

impl<'a> Object<'a> {
    /// An empty object.
    pub fn new() -> Self {
        Object(Vec::new())
    }

    /// Adds a member.
    pub fn with(mut self, key: &'a str, value: impl Json + 'a) -> Self {
        self.0.push((Cow::Borrowed(key), Box::new(value)));
        self
    }
}

impl Default for Object<'_> {
    fn default() -> Self {
        Object::new()
    }
}

/// An [`Object`] written by serde (when it is itself a member of something serde writes).
struct ObjectSer<'o, 'a>(&'o Object<'a>);

impl Serialize for ObjectSer<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.0.len()))?;
        for (k, v) in &self.0.0 {
            map.serialize_entry(k, v.as_ref())?;
        }
        map.end()
    }
}

impl Json for Object<'_> {
    fn raw(&self) -> serde_json::Result<Box<serde_json::value::RawValue>> {
        serde_json::value::to_raw_value(&ObjectSer(self))
    }

    /// The members one after another into `out`, each written by its own type: the same text serde
    /// writes for the object, without a text of its own per member.
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        write_list(out, (b'{', b'}'), &self.0, |out, (k, v)| {
            serde_json::to_writer(&mut *out, k.as_ref())?;
            out.push(b':');
            // The member's own `write_json`: `Box<dyn Json>` is itself `Serialize` (through `raw`),
            // and the box's blanket `write_json` would make a text of the member first.
            v.as_ref().write_json(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Thing {
        id: i64,
        name: String,
        gone: bool,
        #[serde(flatten)]
        attrs: serde_json::Map<String, Value>,
    }

    fn thing() -> Thing {
        let attrs = json!({ "tags": ["a"], "createdAt": 5 }).as_object().cloned().unwrap_or_default();
        Thing { id: 1, name: "x".into(), gone: true, attrs }
    }

    /// The same edits on a `Value`, as the faces made them before.
    fn by_value(t: &Thing) -> String {
        let mut v = serde_json::to_value(t).unwrap_or_default();
        let m = v.as_object_mut().expect("an object");
        m.insert("name".into(), json!("y"));
        m.shift_remove("gone");
        m.entry("id").or_insert(json!(9));
        m.entry("extra").or_insert(json!(2));
        if let Some(c) = m.get_mut("createdAt") {
            *c = json!(format!("t{c}"));
        }
        m.insert("added".into(), json!([1, 2]));
        v.to_string()
    }

    #[test]
    fn edits_keep_the_order_a_value_gave() {
        let t = thing();
        let shaped = Reshaped::new(&t)
            .set("name", "y")
            .remove("gone")
            .or_set("id", 9)
            .or_set("extra", 2)
            .with("createdAt", |c| json!(format!("t{c}")))
            .set("added", [1, 2]);
        let text = serde_json::to_string(&shaped).unwrap_or_default();
        assert_eq!(text, by_value(&t));
        assert_eq!(text, r#"{"id":1,"name":"y","tags":["a"],"createdAt":"t5","extra":2,"added":[1,2]}"#);
    }

    #[test]
    fn a_later_edit_of_a_member_wins() {
        let t = thing();
        let text = serde_json::to_string(&Reshaped::new(&t).set("new", 1).set("new", 2).set("name", "z"));
        assert_eq!(text.unwrap_or_default(), r#"{"id":1,"name":"z","gone":true,"tags":["a"],"createdAt":5,"new":2}"#);
    }

    #[test]
    fn only_objects_can_be_reshaped() {
        assert!(serde_json::to_string(&Reshaped::new(&5)).is_err());
        assert!(serde_json::to_string(&Reshaped::new(&[1])).is_err());
    }

    fn written(value: &dyn Json) -> String {
        let mut out = Vec::new();
        value.write_json(&mut out).expect("written");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn an_object_writes_its_members_in_order() {
        let object = Object::new().with("success", true).with("id", 3).with("b", "x");
        assert_eq!(written(&object), r#"{"success":true,"id":3,"b":"x"}"#);
        assert_eq!(object.raw().expect("raw").get(), written(&object), "as a member of something serde writes");
    }

    #[test]
    fn an_object_is_written_as_serde_writes_its_members() {
        let shown = [br#"{"id":1,"name":"\u0416"}"#.as_slice(), br#"{"id":2}"#];
        let inner = Object::new().with("a\"b", vec![1, 2]).with("none", None::<i64>);
        let t = thing();
        let object = Object::new()
            .with("success", true)
            .with("key \"quoted\" \u{1}", "value \n")
            .with("orders", Array(shown.iter().map(|t| RawText(t)).collect()))
            .with("empty", Array::<RawText>::default())
            .with("prices", Array(vec![Object::new().with("price", 5)]))
            .with("inner", inner)
            .with("reshaped", Reshaped::new(&t).remove("gone"));
        let text = written(&object);
        let by_serde = json!({
            "success": true,
            "key \"quoted\" \u{1}": "value \n",
            "orders": [{"id": 1, "name": "Ж"}, {"id": 2}],
            "empty": [],
            "prices": [{"price": 5}],
            "inner": {"a\"b": [1, 2], "none": null},
            "reshaped": {"id": 1, "name": "x", "tags": ["a"], "createdAt": 5},
        });
        assert_eq!(serde_json::from_str::<Value>(&text).expect("JSON"), by_serde);
        assert_eq!(object.raw().expect("raw").get(), text);
        assert!(text.contains(r#""key \"quoted\" \u0001":"value \n""#), "keys escaped as serde escapes them: {text}");
        assert!(text.contains(r#"[{"id":1,"name":"\u0416"},{"id":2}]"#), "shown text as it was: {text}");
        assert!(RawText(b"{").raw().is_err(), "text that is not JSON is refused where it is checked");
        // Written as it is, not parsed again: only text that was checked when it was written is
        // handed over as a RawText, so even text that is not JSON goes out untouched.
        let unchecked = Object::new().with("a", RawText(b"{")).with("b", Array(vec![RawText(b"[")]));
        assert_eq!(written(&unchecked), r#"{"a":{,"b":[[]}"#);
    }
}
