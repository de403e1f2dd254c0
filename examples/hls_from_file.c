/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hls-from-file: the tws elements embedded in a C application.
 *
 * Reads a media file (or an s3:// or http(s):// URL) with rangesrc, decodes it, encodes
 * H.264 and AAC, and writes HLS with hlssegsink (a bin around hlssegmux): 4 s segments and
 * a VOD playlist in OUTDIR. Each segment is printed as hlssegmux announces it.
 *
 *   GST_PLUGIN_PATH=build/gst build/examples/hls-from-file in.mp4 out
 *
 * Exit status 0 at the end of the stream, 1 on an error (one line on stderr), 2 on bad usage.
 */
#include <gst/gst.h>
#include <stdio.h>

typedef struct {
  GstElement* pipeline;
  GstElement* sink; /* hlssegsink */
} App;

/* A branch "first ! ... ! last" from a description, linked to the sink's pad `pad_name`. */
static GstPad* make_branch(App* app, const char* description, const char* pad_name) {
  GError* error = NULL;
  GstElement* branch = gst_parse_bin_from_description(description, TRUE, &error);
  if (!branch) {
    g_printerr("hls-from-file: %s\n", error->message);
    g_clear_error(&error);
    return NULL;
  }
  gst_bin_add(GST_BIN(app->pipeline), branch);
  GstPad* src = gst_element_get_static_pad(branch, "src");
  GstPad* sink_pad = gst_element_request_pad_simple(app->sink, pad_name);
  gst_pad_link(src, sink_pad);
  gst_object_unref(src);
  gst_object_unref(sink_pad); /* the sink keeps it until it is released */
  gst_element_sync_state_with_parent(branch);
  GstPad* sink = gst_element_get_static_pad(branch, "sink");
  return sink;
}

/* decodebin3 exposes one pad per stream: the first video and the first audio are used. */
static void on_pad_added(GstElement* decoder, GstPad* pad, gpointer data) {
  App* app = data;
  (void)decoder;
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (!caps) caps = gst_pad_query_caps(pad, NULL);
  const char* media = gst_structure_get_name(gst_caps_get_structure(caps, 0));
  const char *description = NULL, *pad_name = NULL;
  if (g_str_has_prefix(media, "video/")) {
    description = "queue ! videoconvert ! x264enc ! h264parse";
    pad_name = "video";
  } else if (g_str_has_prefix(media, "audio/")) {
    description = "queue ! audioconvert ! audioresample ! avenc_aac ! aacparse";
    pad_name = "audio";
  }
  GstPad* taken = pad_name ? gst_element_get_static_pad(app->sink, pad_name) : NULL;
  if (description && !taken) {
    GstPad* branch_sink = make_branch(app, description, pad_name);
    if (branch_sink) {
      gst_pad_link(pad, branch_sink);
      gst_object_unref(branch_sink);
    }
  }
  if (taken) gst_object_unref(taken);
  gst_caps_unref(caps);
}

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  if (argc != 3) {
    g_printerr("usage: hls-from-file INPUT OUTDIR\n");
    return 2;
  }
  App app = {0};
  app.pipeline = gst_pipeline_new("hls-from-file");
  GstElement* source = gst_element_factory_make("rangesrc", NULL);
  GstElement* decoder = gst_element_factory_make("decodebin3", NULL);
  app.sink = gst_element_factory_make("hlssegsink", NULL);
  if (!source || !decoder || !app.sink) {
    g_printerr("hls-from-file: rangesrc, decodebin3 or hlssegsink missing (GST_PLUGIN_PATH?)\n");
    return 1;
  }
  gchar* segments = g_build_filename(argv[2], "segment%05d.ts", NULL);
  gchar* playlist = g_build_filename(argv[2], "index.m3u8", NULL);
  g_object_set(source, "location", argv[1], NULL);
  g_object_set(app.sink, "location", segments, "playlist-location", playlist, "target-duration", 4u,
               NULL);
  gst_util_set_object_arg(G_OBJECT(app.sink), "playlist-type", "vod");
  g_free(segments);
  g_free(playlist);

  gst_bin_add_many(GST_BIN(app.pipeline), source, decoder, app.sink, NULL);
  gst_element_link(source, decoder);
  g_signal_connect(decoder, "pad-added", G_CALLBACK(on_pad_added), &app);

  gst_element_set_state(app.pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(app.pipeline);
  int status = -1;
  while (status < 0) {
    GstMessage* msg = gst_bus_timed_pop(bus, GST_CLOCK_TIME_NONE);
    switch (GST_MESSAGE_TYPE(msg)) {
      case GST_MESSAGE_ELEMENT: {
        const GstStructure* s = gst_message_get_structure(msg);
        gint index;
        guint64 start, duration, bytes;
        if (gst_structure_has_name(s, "hlssegmux-segment") &&
            gst_structure_get_int(s, "index", &index) &&
            gst_structure_get_uint64(s, "start", &start) &&
            gst_structure_get_uint64(s, "duration", &duration) &&
            gst_structure_get_uint64(s, "bytes", &bytes))
          g_print("segment %d: start %.3f s, %.6f s, %" G_GUINT64_FORMAT " bytes\n", index,
                  start / 1e9, duration / 1e9, bytes);
        break;
      }
      case GST_MESSAGE_ERROR: {
        GError* error = NULL;
        gst_message_parse_error(msg, &error, NULL);
        g_printerr("hls-from-file: %s\n", error->message);
        g_clear_error(&error);
        status = 1;
        break;
      }
      case GST_MESSAGE_EOS:
        status = 0;
        break;
      default:
        break;
    }
    gst_message_unref(msg);
  }
  gst_element_set_state(app.pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(app.pipeline);
  return status;
}
