// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/http/prefixed_input_stream.h"

#include <algorithm>
#include <cstring>

namespace tws {
namespace {

struct TwsPrefixedInputStream {
  GInputStream parent;
  GInputStream* base;  // owned
  GBytes* prefix;      // owned; nullptr once consumed
  gsize offset;        // bytes of `prefix` already read
};
struct TwsPrefixedInputStreamClass {
  GInputStreamClass parent_class;
};

void pollable_iface_init(GPollableInputStreamInterface* iface);

G_DEFINE_TYPE_WITH_CODE(TwsPrefixedInputStream, tws_prefixed_input_stream, G_TYPE_INPUT_STREAM,
                        G_IMPLEMENT_INTERFACE(G_TYPE_POLLABLE_INPUT_STREAM, pollable_iface_init))

TwsPrefixedInputStream* self_of(gpointer p) { return static_cast<TwsPrefixedInputStream*>(p); }

// Copies from the prefix; -1 when it is used up.
gssize read_prefix(TwsPrefixedInputStream* self, void* buffer, gsize count) {
  if (!self->prefix) return -1;
  gsize size = 0;
  const auto* data = static_cast<const guint8*>(g_bytes_get_data(self->prefix, &size));
  const gsize n = std::min(count, size - self->offset);
  memcpy(buffer, data + self->offset, n);
  self->offset += n;
  if (self->offset >= size) g_clear_pointer(&self->prefix, g_bytes_unref);
  return gssize(n);
}

gssize read_fn(GInputStream* stream, void* buffer, gsize count, GCancellable* cancellable,
               GError** error) {
  TwsPrefixedInputStream* self = self_of(stream);
  const gssize n = read_prefix(self, buffer, count);
  if (n >= 0) return n;
  return g_input_stream_read(self->base, buffer, count, cancellable, error);
}

gboolean close_fn(GInputStream* stream, GCancellable* cancellable, GError** error) {
  return g_input_stream_close(self_of(stream)->base, cancellable, error);
}

gboolean can_poll(GPollableInputStream* stream) {
  return g_pollable_input_stream_can_poll(G_POLLABLE_INPUT_STREAM(self_of(stream)->base));
}

gboolean is_readable(GPollableInputStream* stream) {
  TwsPrefixedInputStream* self = self_of(stream);
  return self->prefix || g_pollable_input_stream_is_readable(G_POLLABLE_INPUT_STREAM(self->base));
}

GSource* create_source(GPollableInputStream* stream, GCancellable* cancellable) {
  TwsPrefixedInputStream* self = self_of(stream);
  // With bytes in hand the stream is readable now (as GConverterInputStream does).
  GUnique<GSource> base(self->prefix ? g_timeout_source_new(0)
                                     : g_pollable_input_stream_create_source(
                                           G_POLLABLE_INPUT_STREAM(self->base), cancellable));
  return g_pollable_source_new_full(stream, base.get(), cancellable);
}

gssize read_nonblocking(GPollableInputStream* stream, void* buffer, gsize count, GError** error) {
  TwsPrefixedInputStream* self = self_of(stream);
  const gssize n = read_prefix(self, buffer, count);
  if (n >= 0) return n;
  return g_pollable_input_stream_read_nonblocking(G_POLLABLE_INPUT_STREAM(self->base), buffer,
                                                  count, nullptr, error);
}

void pollable_iface_init(GPollableInputStreamInterface* iface) {
  iface->can_poll = can_poll;
  iface->is_readable = is_readable;
  iface->create_source = create_source;
  iface->read_nonblocking = read_nonblocking;
}

void finalize(GObject* object) {
  TwsPrefixedInputStream* self = self_of(object);
  g_clear_object(&self->base);
  g_clear_pointer(&self->prefix, g_bytes_unref);
  G_OBJECT_CLASS(tws_prefixed_input_stream_parent_class)->finalize(object);
}

void tws_prefixed_input_stream_class_init(TwsPrefixedInputStreamClass* klass) {
  G_OBJECT_CLASS(klass)->finalize = finalize;
  G_INPUT_STREAM_CLASS(klass)->read_fn = read_fn;
  G_INPUT_STREAM_CLASS(klass)->close_fn = close_fn;
}

void tws_prefixed_input_stream_init(TwsPrefixedInputStream*) {}

}  // namespace

GRef<GInputStream> prefixed_input_stream_new(GBytes* prefix, GInputStream* base) {
  auto* self = static_cast<TwsPrefixedInputStream*>(
      g_object_new(tws_prefixed_input_stream_get_type(), nullptr));
  self->base = G_INPUT_STREAM(g_object_ref(base));
  if (prefix && g_bytes_get_size(prefix)) self->prefix = g_bytes_ref(prefix);
  return adopt_ref(G_INPUT_STREAM(self));
}

}  // namespace tws
