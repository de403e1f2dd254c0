// SPDX-License-Identifier: LGPL-2.1-or-later
// plugin_cache: a plugin's documentation cache, gst_plugins_cache.json, as GStreamer's own
// plugins keep it (their docs/gst_plugins_cache.json, written by gst-hotdoc-plugins-scanner
// and gst-plugins-doc-cache-generator.py, which Debian does not ship). Same fields, values
// and text as that scanner, written as its script writes them (keys sorted, 4-space indent,
// UTF-8, no final newline), so hotdoc's GStreamer extension reads it and a diff against the
// committed copy shows what a change did to the documented interface.
//
//   plugin_cache OUTPUT.json PLUGIN.so   writes the cache
//   plugin_cache --lint PLUGIN.so        prints "property ELEMENT NAME" for every property
//                                        (inherited ones too) and "problem: ..." for each
//                                        own property whose blurb is empty or only its nick;
//                                        exits 1 when there is a problem
#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

namespace {

// The scanner's json_strescape() without the JSON escaping (the writer below does that): NULL
// reads "NULL" and '%' is doubled, as hotdoc expects in element text.
std::string doc_text(const char* s) {
  if (s == nullptr) return "NULL";
  std::string out;
  for (const char* p = s; *p; ++p) {
    out += *p;
    if (*p == '%') out += '%';
  }
  return out;
}

std::string printf_string(const char* format, ...) G_GNUC_PRINTF(1, 2);
std::string printf_string(const char* format, ...) {
  va_list args;
  va_start(args, format);
  gchar* s = g_strdup_vprintf(format, args);
  va_end(args);
  std::string out = s;
  g_free(s);
  return out;
}

std::string double_text(double v) {
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_ascii_formatd(buf, sizeof buf, "%g", v);
}

void set_string(JsonObject* o, const char* key, const std::string& value) {
  json_object_set_string_member(o, key, value.c_str());
}

// Types the cache lists under "other-types" (enums, flags and objects a plugin marks as its
// API), each once.
struct OtherTypes {
  JsonObject* types = json_object_new();
  std::set<std::string> seen;
  ~OtherTypes() { json_object_unref(types); }
  bool first_sight(GType type, GstPluginAPIFlags* flags) {
    if (seen.count(g_type_name(type)) || !gst_type_is_plugin_api(type, flags)) return false;
    seen.insert(g_type_name(type));
    return true;
  }
};

void add_object_details(JsonObject* out, OtherTypes& other, GObject* object, GType type,
                        GType inst_type);

// An enum's or flags' entry: "kind" and its values (name = nick, desc = name), enum values in
// decimal, flags in hex, as the scanner writes them.
template <typename Class>
void serialize_values(OtherTypes& other, GType type, GstPluginAPIFlags flags) {
  constexpr bool is_enum = std::is_same_v<Class, GEnumClass>;
  JsonObject* o = json_object_new();
  set_string(o, "kind", is_enum ? "enum" : "flags");
  JsonArray* values = json_array_new();
  if (is_enum && (flags & GST_PLUGIN_API_FLAG_IGNORE_ENUM_MEMBERS)) {
    json_object_set_boolean_member(o, "ignore-enum-members", TRUE);
  } else {
    auto* klass = static_cast<Class*>(g_type_class_ref(type));
    for (guint i = 0; i < klass->n_values; ++i) {
      JsonObject* v = json_object_new();
      set_string(v, "name", doc_text(klass->values[i].value_nick));
      set_string(v, "value",
                 is_enum ? printf_string("%d", klass->values[i].value)
                         : printf_string("0x%08x", klass->values[i].value));
      set_string(v, "desc", doc_text(klass->values[i].value_name));
      json_array_add_object_element(values, v);
    }
    g_type_class_unref(klass);
  }
  json_object_set_array_member(o, "values", values);
  json_object_set_object_member(other.types, g_type_name(type), o);
}

// A plugin-API object or interface: its own properties and signals, read from an instance of
// inst_type (the concrete type, since `type` may be abstract).
void serialize_object(OtherTypes& other, GType type, GType inst_type) {
  JsonObject* o = json_object_new();
  set_string(o, "kind", G_TYPE_IS_INTERFACE(type) ? "interface" : "object");
  json_object_set_object_member(other.types, g_type_name(type), o);
  GObject* instance = static_cast<GObject*>(g_object_new(inst_type, nullptr));
  if (g_object_is_floating(instance)) g_object_ref_sink(instance);
  add_object_details(o, other, instance, type, inst_type);
  g_object_unref(instance);
}

void note_type(OtherTypes& other, GType type, GType inst_type) {
  GstPluginAPIFlags flags;
  if (!other.first_sight(type, &flags)) return;
  if (g_type_is_a(type, G_TYPE_ENUM)) {
    serialize_values<GEnumClass>(other, type, flags);
  } else if (g_type_is_a(type, G_TYPE_FLAGS)) {
    serialize_values<GFlagsClass>(other, type, flags);
  } else if (g_type_is_a(type, G_TYPE_OBJECT) || G_TYPE_IS_INTERFACE(type)) {
    serialize_object(other, type, inst_type);
  }
}

std::string flags_text(GType type, guint flags) {
  auto* klass = static_cast<GFlagsClass*>(g_type_class_ref(type));
  std::string s;
  for (guint i = 0; i < klass->n_values; ++i) {
    if (klass->values[i].value == flags) s = klass->values[i].value_nick;
  }
  if (s.empty()) {  // the set bits from the highest value down, as the scanner joins them
    guint left = flags;
    for (guint i = klass->n_values; i > 0 && left != 0; --i) {
      const GFlagsValue& v = klass->values[i - 1];
      if (v.value != 0 && (left & v.value) == v.value) {
        s += (s.empty() ? "" : "+") + std::string(v.value_nick);
        left -= v.value;
      }
    }
    if (s.empty()) s = "(none)";
  }
  g_type_class_unref(klass);
  return s;
}

// "default", and "min"/"max" for numbers, printed as the scanner prints them (so a guint
// above G_MAXINT reads negative there too: hotdoc's pages for GStreamer's plugins show the
// same).
template <typename Spec, typename T, typename Text>
void set_range(JsonObject* p, GParamSpec* spec, T def, Text text) {
  const auto* s = reinterpret_cast<const Spec*>(spec);
  set_string(p, "default", text(def));
  set_string(p, "min", text(s->minimum));
  set_string(p, "max", text(s->maximum));
}

void add_default(JsonObject* p, GParamSpec* spec, const GValue* value) {
  const auto decimal = [](auto v) { return std::to_string(v); };
  switch (G_VALUE_TYPE(value)) {
    case G_TYPE_STRING:
      set_string(p, "default", doc_text(g_value_get_string(value)));
      return;
    case G_TYPE_BOOLEAN:
      set_string(p, "default", g_value_get_boolean(value) ? "true" : "false");
      return;
    case G_TYPE_ULONG:
      set_range<GParamSpecULong>(p, spec, g_value_get_ulong(value), decimal);
      return;
    case G_TYPE_LONG:
      set_range<GParamSpecLong>(p, spec, g_value_get_long(value), decimal);
      return;
    case G_TYPE_UINT:  // printed as a gint, as the scanner's "%d" does
      set_range<GParamSpecUInt>(p, spec, g_value_get_uint(value),
                                [](guint v) { return std::to_string(static_cast<gint>(v)); });
      return;
    case G_TYPE_INT:
      set_range<GParamSpecInt>(p, spec, g_value_get_int(value), decimal);
      return;
    case G_TYPE_UINT64:
      set_range<GParamSpecUInt64>(p, spec, g_value_get_uint64(value), decimal);
      return;
    case G_TYPE_INT64:  // the default printed unsigned, as the scanner does
      set_range<GParamSpecInt64>(p, spec, g_value_get_int64(value), decimal);
      set_string(p, "default", decimal(static_cast<guint64>(g_value_get_int64(value))));
      return;
    case G_TYPE_FLOAT:
      set_range<GParamSpecFloat>(p, spec, g_value_get_float(value), double_text);
      return;
    case G_TYPE_DOUBLE:
      set_range<GParamSpecDouble>(p, spec, g_value_get_double(value), double_text);
      return;
    default:
      break;
  }
  if (spec->value_type == GST_TYPE_CAPS) {
    if (const GstCaps* caps = gst_value_get_caps(value)) {
      gchar* text = gst_caps_to_string(caps);
      set_string(p, "default", doc_text(text));
      g_free(text);
    }
  } else if (spec->value_type == GST_TYPE_STRUCTURE) {
    if (const GstStructure* s = gst_value_get_structure(value)) {
      gchar* text = gst_structure_to_string(s);
      set_string(p, "default", doc_text(text));
      g_free(text);
    }
  } else if (GST_IS_PARAM_SPEC_FRACTION(spec)) {
    auto* s = GST_PARAM_SPEC_FRACTION(spec);
    set_string(p, "default",
               printf_string("%d/%d", gst_value_get_fraction_numerator(value),
                             gst_value_get_fraction_denominator(value)));
    set_string(p, "min", printf_string("%d/%d", s->min_num, s->min_den));
    set_string(p, "max", printf_string("%d/%d", s->max_num, s->max_den));
  } else if (G_IS_PARAM_SPEC_ENUM(spec)) {
    auto* klass = static_cast<GEnumClass*>(g_type_class_ref(spec->value_type));
    const gint v = g_value_get_enum(value);
    GEnumValue* ev = g_enum_get_value(klass, v);
    set_string(p, "default",
               printf_string("%s (%d)", ev ? doc_text(ev->value_nick).c_str() : "", v));
    g_type_class_unref(klass);
  } else if (G_IS_PARAM_SPEC_FLAGS(spec)) {
    set_string(p, "default", flags_text(spec->value_type, g_value_get_flags(value)));
  }
}

const char* mutable_text(GParamFlags flags) {
  if (flags & GST_PARAM_MUTABLE_PLAYING) return "playing";
  if (flags & GST_PARAM_MUTABLE_PAUSED) return "paused";
  if (flags & GST_PARAM_MUTABLE_READY) return "ready";
  return "null";
}

// The properties `type` itself installs (not inherited ones), their defaults read from the
// instance unless the property asks for the declared default (GST_PARAM_DOC_SHOW_DEFAULT).
void add_properties(JsonObject* out, OtherTypes& other, GObject* object, GType type) {
  guint n = 0;
  GParamSpec** specs = g_object_class_list_properties(G_OBJECT_GET_CLASS(object), &n);
  JsonObject* props = json_object_new();
  for (guint i = 0; i < n; ++i) {
    GParamSpec* spec = specs[i];
    if (spec->owner_type != type) continue;
    GValue value = G_VALUE_INIT;
    g_value_init(&value, spec->value_type);
    if ((spec->flags & G_PARAM_READABLE) && !(spec->flags & GST_PARAM_DOC_SHOW_DEFAULT)) {
      g_object_get_property(object, spec->name, &value);
    } else {
      g_param_value_set_default(spec, &value);
    }
    JsonObject* p = json_object_new();
    const auto flag = [&](const char* key, guint bit) {
      json_object_set_boolean_member(p, key, (spec->flags & bit) != 0);
    };
    flag("construct-only", G_PARAM_CONSTRUCT_ONLY);
    flag("construct", G_PARAM_CONSTRUCT);
    flag("readable", G_PARAM_READABLE);
    flag("writable", G_PARAM_WRITABLE);
    set_string(p, "blurb", doc_text(g_param_spec_get_blurb(spec)));
    flag("controllable", GST_PARAM_CONTROLLABLE);
    flag("conditionally-available", GST_PARAM_CONDITIONALLY_AVAILABLE);
    set_string(p, "mutable", mutable_text(spec->flags));
    set_string(p, "type", g_type_name(spec->value_type));
    GType inst_type = spec->value_type;
    if (G_IS_PARAM_SPEC_OBJECT(spec) && g_value_get_object(&value) != nullptr) {
      inst_type = G_OBJECT_TYPE(g_value_get_object(&value));
    }
    note_type(other, spec->value_type, inst_type);
    add_default(p, spec, &value);
    g_value_unset(&value);
    json_object_set_object_member(props, spec->name, p);
  }
  g_free(specs);
  if (json_object_get_size(props) > 0) {
    json_object_set_object_member(out, "properties", props);
  } else {
    json_object_unref(props);
  }
}

void add_signals(JsonObject* out, OtherTypes& other, GType type) {
  guint n = 0;
  guint* ids = g_signal_list_ids(type, &n);
  if (n == 0) {
    g_free(ids);
    return;
  }
  JsonObject* signals = json_object_new();
  for (guint i = 0; i < n; ++i) {
    GSignalQuery q;
    g_signal_query(ids[i], &q);
    JsonObject* s = json_object_new();
    JsonArray* args = json_array_new();
    for (guint j = 0; j < q.n_params; ++j) {
      const GType arg_type = q.param_types[j] & ~G_SIGNAL_TYPE_STATIC_SCOPE;
      JsonObject* a = json_object_new();
      set_string(a, "name", printf_string("arg%u", j));
      set_string(a, "type", g_type_name(arg_type));
      json_array_add_object_element(args, a);
      note_type(other, arg_type, arg_type);
    }
    json_object_set_array_member(s, "args", args);
    const GType ret = q.return_type & ~G_SIGNAL_TYPE_STATIC_SCOPE;
    note_type(other, ret, ret);
    set_string(s, "return-type", g_type_name(ret));
    if (q.signal_flags & G_SIGNAL_RUN_FIRST) {
      set_string(s, "when", "first");
    } else if (q.signal_flags & G_SIGNAL_RUN_LAST) {
      set_string(s, "when", "last");
    } else if (q.signal_flags & G_SIGNAL_RUN_CLEANUP) {
      set_string(s, "when", "cleanup");
    }
    if (q.signal_flags & G_SIGNAL_NO_RECURSE) json_object_set_boolean_member(s, "no-recurse", 1);
    if (q.signal_flags & G_SIGNAL_DETAILED) json_object_set_boolean_member(s, "detailed", 1);
    if (q.signal_flags & G_SIGNAL_ACTION) json_object_set_boolean_member(s, "action", 1);
    if (q.signal_flags & G_SIGNAL_NO_HOOKS) json_object_set_boolean_member(s, "no-hooks", 1);
    json_object_set_object_member(signals, q.signal_name, s);
  }
  g_free(ids);
  json_object_set_object_member(out, "signals", signals);
}

void add_object_details(JsonObject* out, OtherTypes& other, GObject* object, GType type,
                        GType inst_type) {
  JsonArray* hierarchy = json_array_new();
  for (GType t = type;; t = g_type_parent(t)) {
    json_array_add_string_element(hierarchy, g_type_name(t));
    note_type(other, t, inst_type);
    if (t == G_TYPE_OBJECT || t == G_TYPE_INTERFACE) break;
  }
  json_object_set_array_member(out, "hierarchy", hierarchy);
  guint n = 0;
  GType* ifaces = g_type_interfaces(type, &n);
  if (n > 0) {
    JsonArray* names = json_array_new();
    for (guint i = 0; i < n; ++i) {
      json_array_add_string_element(names, g_type_name(ifaces[i]));
      note_type(other, ifaces[i], inst_type);
    }
    json_object_set_array_member(out, "interfaces", names);
  }
  g_free(ifaces);
  add_properties(out, other, object, type);
  add_signals(out, other, type);
}

// Caps as the scanner lays them out: "NAME:" then one "%15s: VALUE" line per field, with
// "(string)" and "(rate)" dropped from format and rate.
std::string caps_text(const GstCaps* caps) {
  if (gst_caps_is_any(caps)) return "ANY";
  if (gst_caps_is_empty(caps)) return "EMPTY";
  std::string out;
  GRegex* cleanup =
      g_regex_new("\\(string\\)|\\(rate\\)", G_REGEX_DEFAULT, G_REGEX_MATCH_DEFAULT, nullptr);
  for (guint i = 0; i < gst_caps_get_size(caps); ++i) {
    GstStructure* s = gst_caps_get_structure(caps, i);
    GstCapsFeatures* features = gst_caps_get_features(caps, i);
    if (features &&
        (gst_caps_features_is_any(features) ||
         !gst_caps_features_is_equal(features, GST_CAPS_FEATURES_MEMORY_SYSTEM_MEMORY))) {
      gchar* f = gst_caps_features_to_string(features);
      out += printf_string("%s%s(%s):\n", i ? "\n" : "", gst_structure_get_name(s), f);
      g_free(f);
    } else {
      out += printf_string("%s:\n", gst_structure_get_name(s));
    }
    for (gint j = 0; j < gst_structure_n_fields(s); ++j) {
      const gchar* field = gst_structure_nth_field_name(s, j);
      gchar* v = gst_value_serialize(gst_structure_get_value(s, field));
      if (g_str_equal(field, "format") || g_str_equal(field, "rate")) {
        gchar* clean = g_regex_replace(cleanup, v, -1, 0, "", G_REGEX_MATCH_DEFAULT, nullptr);
        g_free(v);
        v = clean;
      }
      out += printf_string("%15s: %s\n", field, v);
      g_free(v);
    }
  }
  g_regex_unref(cleanup);
  return doc_text(out.c_str());
}

void add_pad_templates(JsonObject* out, OtherTypes& other, GstElement* element,
                       GstElementFactory* factory) {
  JsonObject* templates = json_object_new();
  for (const GList* l = gst_element_factory_get_static_pad_templates(factory); l; l = l->next) {
    auto* st = static_cast<GstStaticPadTemplate*>(l->data);
    GstPadTemplate* tmpl =
        gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(element), st->name_template);
    JsonObject* t = json_object_new();
    GstCaps* caps = gst_pad_template_get_documentation_caps(tmpl);
    set_string(t, "caps", caps_text(caps));
    gst_caps_unref(caps);
    set_string(t, "direction",
               st->direction == GST_PAD_SRC    ? "src"
               : st->direction == GST_PAD_SINK ? "sink"
                                               : "unknown");
    set_string(t, "presence",
               st->presence == GST_PAD_ALWAYS      ? "always"
               : st->presence == GST_PAD_SOMETIMES ? "sometimes"
               : st->presence == GST_PAD_REQUEST   ? "request"
                                                   : "unknown");
    const GType pad_type = GST_PAD_TEMPLATE_GTYPE(tmpl);
    if (pad_type != G_TYPE_NONE && pad_type != GST_TYPE_PAD) {
      set_string(t, "type", g_type_name(pad_type));
      note_type(other, pad_type, pad_type);
    }
    json_object_set_object_member(templates, doc_text(st->name_template).c_str(), t);
  }
  if (json_object_get_size(templates) > 0) {
    json_object_set_object_member(out, "pad-templates", templates);
  } else {
    json_object_unref(templates);
  }
}

std::string rank_text(gint rank) {
  static const gint ranks[] = {GST_RANK_NONE, GST_RANK_MARGINAL, GST_RANK_SECONDARY,
                               GST_RANK_PRIMARY};
  static const char* names[] = {"none", "marginal", "secondary", "primary"};
  int best = 0;
  for (int i = 0; i < 4; ++i) {
    if (rank == ranks[i]) return names[i];
    if (std::abs(rank - ranks[i]) < std::abs(rank - ranks[best])) best = i;
  }
  return printf_string("%s %c %d", names[best], rank - ranks[best] > 0 ? '+' : '-',
                       std::abs(ranks[best] - rank));
}

GstElement* make_element(GstElementFactory* factory) {
  GstElement* element = gst_element_factory_create(factory, nullptr);
  if (element == nullptr) g_error("could not make %s", GST_OBJECT_NAME(factory));
  return GST_ELEMENT(gst_object_ref_sink(element));
}

JsonObject* element_details(OtherTypes& other, GstElementFactory* factory) {
  JsonObject* e = json_object_new();
  set_string(e, "rank", rank_text(gst_plugin_feature_get_rank(GST_PLUGIN_FEATURE(factory))));
  gchar** keys = gst_element_factory_get_metadata_keys(factory);
  for (gchar** k = keys; k && *k; ++k) {
    set_string(e, *k, doc_text(gst_element_factory_get_metadata(factory, *k)));
  }
  g_strfreev(keys);
  GstElement* element = make_element(factory);
  add_object_details(e, other, G_OBJECT(element), G_OBJECT_TYPE(element), G_OBJECT_TYPE(element));
  add_pad_templates(e, other, element, factory);
  gst_object_unref(element);
  return e;
}

// The element factories of `plugin`, by name.
std::vector<GstElementFactory*> element_factories(GstPlugin* plugin) {
  std::vector<GstElementFactory*> out;
  GList* features =
      gst_registry_get_feature_list_by_plugin(gst_registry_get(), gst_plugin_get_name(plugin));
  for (GList* l = features; l; l = l->next) {
    if (GST_IS_ELEMENT_FACTORY(l->data)) {
      out.push_back(GST_ELEMENT_FACTORY(gst_object_ref(l->data)));
    }
  }
  gst_plugin_feature_list_free(features);
  std::sort(out.begin(), out.end(), [](GstElementFactory* a, GstElementFactory* b) {
    return g_strcmp0(GST_OBJECT_NAME(a), GST_OBJECT_NAME(b)) < 0;
  });
  return out;
}

JsonObject* plugin_details(GstPlugin* plugin, const char* path) {
  JsonObject* p = json_object_new();
  set_string(p, "description", gst_plugin_get_description(plugin));
  gchar* base = g_path_get_basename(path);
  std::string filename(base, strcspn(base, "."));
  g_free(base);
  if (filename.rfind("lib", 0) == 0) filename.erase(0, 3);
  set_string(p, "filename", filename);
  set_string(p, "source", gst_plugin_get_source(plugin));
  set_string(p, "package", gst_plugin_get_package(plugin));
  set_string(p, "license", gst_plugin_get_license(plugin));
  set_string(p, "url", gst_plugin_get_origin(plugin));
  OtherTypes other;
  JsonObject* elements = json_object_new();
  for (GstElementFactory* f : element_factories(plugin)) {
    if (!gst_element_factory_get_skip_documentation(f)) {
      json_object_set_object_member(elements, GST_OBJECT_NAME(f), element_details(other, f));
    }
    gst_object_unref(f);
  }
  json_object_set_object_member(p, "elements", elements);
  json_object_set_object_member(p, "tracers", json_object_new());  // tws has none
  json_object_set_object_member(p, "other-types", json_object_ref(other.types));
  return p;
}

// Python's json.dump(indent=4, sort_keys=True, ensure_ascii=False), which GStreamer's cache
// generator writes with.
void write_string(std::string& out, const char* s) {
  out += '"';
  for (const char* p = s; *p; ++p) {
    const unsigned char c = static_cast<unsigned char>(*p);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += printf_string("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void write_node(std::string& out, JsonNode* node, int depth) {
  const std::string indent(4 * (depth + 1), ' ');
  const std::string close(4 * depth, ' ');
  switch (JSON_NODE_TYPE(node)) {
    case JSON_NODE_OBJECT: {
      JsonObject* o = json_node_get_object(node);
      GList* members = json_object_get_members(o);
      std::vector<std::string> names;
      for (GList* l = members; l; l = l->next) names.emplace_back(static_cast<char*>(l->data));
      g_list_free(members);
      std::sort(names.begin(), names.end());
      if (names.empty()) {
        out += "{}";
        return;
      }
      out += "{\n";
      for (size_t i = 0; i < names.size(); ++i) {
        out += indent;
        write_string(out, names[i].c_str());
        out += ": ";
        write_node(out, json_object_get_member(o, names[i].c_str()), depth + 1);
        out += i + 1 < names.size() ? ",\n" : "\n";
      }
      out += close + "}";
      return;
    }
    case JSON_NODE_ARRAY: {
      JsonArray* a = json_node_get_array(node);
      const guint n = json_array_get_length(a);
      if (n == 0) {
        out += "[]";
        return;
      }
      out += "[\n";
      for (guint i = 0; i < n; ++i) {
        out += indent;
        write_node(out, json_array_get_element(a, i), depth + 1);
        out += i + 1 < n ? ",\n" : "\n";
      }
      out += close + "]";
      return;
    }
    case JSON_NODE_VALUE:
      if (json_node_get_value_type(node) == G_TYPE_BOOLEAN) {
        out += json_node_get_boolean(node) ? "true" : "false";
      } else {
        write_string(out, json_node_get_string(node));
      }
      return;
    case JSON_NODE_NULL:
      out += "null";
      return;
  }
}

// Each own property's blurb must say more than its nick; every property is listed for the
// test that checks the example launch lines' settings.
int lint(GstPlugin* plugin) {
  int problems = 0;
  for (GstElementFactory* f : element_factories(plugin)) {
    GstElement* element = make_element(f);
    guint n = 0;
    GParamSpec** specs = g_object_class_list_properties(G_OBJECT_GET_CLASS(element), &n);
    for (guint i = 0; i < n; ++i) {
      GParamSpec* spec = specs[i];
      g_print("property %s %s\n", GST_OBJECT_NAME(f), spec->name);
      if (spec->owner_type != G_OBJECT_TYPE(element)) continue;
      const gchar* blurb = g_param_spec_get_blurb(spec);
      const gchar* nick = g_param_spec_get_nick(spec);
      std::string bare = blurb ? blurb : "";
      while (!bare.empty() && (bare.back() == '.' || bare.back() == ' ')) bare.pop_back();
      if (bare.empty() || g_ascii_strcasecmp(bare.c_str(), nick) == 0 ||
          g_ascii_strcasecmp(bare.c_str(), spec->name) == 0) {
        g_print("problem: %s:%s has no blurb beyond its nick (\"%s\")\n", GST_OBJECT_NAME(f),
                spec->name, blurb ? blurb : "");
        ++problems;
      }
    }
    g_free(specs);
    gst_object_unref(element);
    gst_object_unref(f);
  }
  return problems ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const bool lint_only = argc == 3 && g_str_equal(argv[1], "--lint");
  if (argc != 3) {
    g_printerr("usage: %s OUTPUT.json PLUGIN.so | --lint PLUGIN.so\n", argv[0]);
    return 2;
  }
  gst_init(nullptr, nullptr);
  GError* error = nullptr;
  GstPlugin* plugin = gst_plugin_load_file(argv[2], &error);
  if (plugin == nullptr) {
    g_printerr("%s: not a GStreamer plugin: %s\n", argv[2], error->message);
    g_error_free(error);
    return 1;
  }
  if (lint_only) return lint(plugin);

  JsonObject* root = json_object_new();
  json_object_set_object_member(root, gst_plugin_get_name(plugin), plugin_details(plugin, argv[2]));
  JsonNode* node = json_node_init_object(json_node_alloc(), root);
  json_object_unref(root);
  std::string text;
  write_node(text, node, 0);
  json_node_unref(node);
  if (!g_file_set_contents(argv[1], text.data(), static_cast<gssize>(text.size()), &error)) {
    g_printerr("%s\n", error->message);
    g_error_free(error);
    return 1;
  }
  gst_object_unref(plugin);
  return 0;
}
