// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/http/lent_stream.h"

#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>

#include "service/http/prefixed_input_stream.h"

namespace tws {
namespace {

struct TwsLentStream {
  GIOStream parent;
  GInputStream* input;                 // owned
  GOutputStream* output;               // owned
  std::function<void()>* on_released;  // owned; nullptr once run
};
struct TwsLentStreamClass {
  GIOStreamClass parent_class;
};

G_DEFINE_TYPE(TwsLentStream, tws_lent_stream, G_TYPE_IO_STREAM)

TwsLentStream* self_of(gpointer p) { return static_cast<TwsLentStream*>(p); }

void release(TwsLentStream* self) {
  if (std::function<void()>* fn = std::exchange(self->on_released, nullptr)) {
    (*fn)();
    delete fn;
  }
}

GInputStream* get_input_stream(GIOStream* stream) { return self_of(stream)->input; }
GOutputStream* get_output_stream(GIOStream* stream) { return self_of(stream)->output; }

gboolean close_fn(GIOStream* stream, GCancellable* cancellable, GError** error) {
  TwsLentStream* self = self_of(stream);
  // Neither stream owns the descriptor: closing them only marks them closed.
  gboolean ok = g_output_stream_close(self->output, cancellable, error);
  ok = g_input_stream_close(self->input, cancellable, ok ? error : nullptr) && ok;
  release(self);
  return ok;
}

void finalize(GObject* object) {
  TwsLentStream* self = self_of(object);
  release(self);
  g_clear_object(&self->input);
  g_clear_object(&self->output);
  G_OBJECT_CLASS(tws_lent_stream_parent_class)->finalize(object);
}

void tws_lent_stream_class_init(TwsLentStreamClass* klass) {
  G_OBJECT_CLASS(klass)->finalize = finalize;
  GIOStreamClass* io = G_IO_STREAM_CLASS(klass);
  io->get_input_stream = get_input_stream;
  io->get_output_stream = get_output_stream;
  io->close_fn = close_fn;
}

void tws_lent_stream_init(TwsLentStream*) {}

}  // namespace

GRef<GIOStream> lent_stream_new(int fd, GBytes* prefix, std::function<void()> on_released) {
  auto* self = static_cast<TwsLentStream*>(g_object_new(tws_lent_stream_get_type(), nullptr));
  GRef<GInputStream> input = adopt_ref(g_unix_input_stream_new(fd, FALSE));
  if (prefix) input = prefixed_input_stream_new(prefix, input.get());
  self->input = input.release();
  self->output = g_unix_output_stream_new(fd, FALSE);
  self->on_released = new std::function<void()>(std::move(on_released));
  return adopt_ref(G_IO_STREAM(self));
}

}  // namespace tws
