// SPDX-License-Identifier: LGPL-2.1-or-later
// One segment job: two pipelines joined by the output grids.
//
//   decode:  rangesrc ! typefind ! decodebin3 (FLV: parsebin ! decoder, late_pads.h)
//            ! (video) [videoconvert ! hdrtonemap (PQ/HLG) !] videoconvert
//            ! deinterlace ! [videoflip] ! videoconvertscale
//            ! capsfilter [! videobox] ! appsink      (audio) audioconvert ! audioresample !
//            capsfilter ! appsink
//   grids:   FrameGrid / SampleGrid put decoded media on the global output timeline
//   encode:  appsrc ! x264enc|x265enc ! parse ! queue ! hlssegmux.video
//            appsrc ! audioconvert ! avenc_aac ! aacparse ! queue ! hlssegmux.audio ; hlssegmux !
//            fakesink     (audioconvert's input waits for x264enc's, audio_pacer.h)
//
// The decode side is sought once, accurately, to just before the first segment (audio needs
// 48 AAC frames of pre-roll); the grids drop what comes before and stop the decode side when
// the last segment is complete. The encode side only ever sees the output timeline, so every
// job writes the same timestamps for the same frame.
#include "pipelines/segment_job.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/audio/audio.h>
#include <gst/video/video.h>

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>

#include "common/gref.h"
#include "pipelines/audio_clock.h"
#include "pipelines/audio_pacer.h"
#include "pipelines/decoder_threads.h"
#include "pipelines/downmix.h"
#include "pipelines/frame_grid.h"
#include "pipelines/late_pads.h"
#include "pipelines/pipeline_util.h"
#include "pipelines/preroll_filter.h"
#include "pipelines/segment_split.h"

GST_DEBUG_CATEGORY_STATIC(tws_job_debug);
#define GST_CAT_DEFAULT tws_job_debug

namespace tws {
namespace {

// Samples decoded and encoded before A_k, then dropped: 2048 prime the AAC encoder; about a
// second more lets its rate control settle, so a segment made alone gets the bitrate a
// segment in a run gets (a fresh encoder starts well below its target on a fresh stream).
constexpr int64_t kAudioPreroll = 48 * 1024;
constexpr guint kSourceBlock = 1 << 20;  // rangesrc block, bytes
constexpr guint kSourceReadahead = 4;    // rangesrc sequential read-ahead, blocks
// How far the audio encoder may run ahead of the video encoder's input (audio_pacer.h): the
// muxer needs audio only up to the video it writes, which is behind the encoder's input.
constexpr int64_t kAudioLead = 250 * GST_MSECOND;

// The audio decoder's packets in and its first buffer out feed the AudioClock (audio_clock.h);
// a flush (the seek) starts it over.
void watch_audio_decoder(GstElement* decoder, AudioClock* clock) {
  const auto types = GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_FLUSH);
  GRef<GstPad> sink = adopt_ref(gst_element_get_static_pad(decoder, "sink"));
  GRef<GstPad> src = adopt_ref(gst_element_get_static_pad(decoder, "src"));
  if (!sink || !src) return;
  gst_pad_add_probe(
      sink.get(), types,
      [](GstPad*, GstPadProbeInfo* info, gpointer data) {
        auto* clock = static_cast<AudioClock*>(data);
        if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
          GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info);
          clock->packet(GST_BUFFER_PTS(b));
        } else if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_FLUSH_STOP) {
          clock->reset();
        }
        return GST_PAD_PROBE_OK;
      },
      clock, nullptr);
  gst_pad_add_probe(
      src.get(), GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad* pad, GstPadProbeInfo* info, gpointer data) {
        GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info);
        GRef<GstCaps> caps = adopt_ref(gst_pad_get_current_caps(pad));
        GstAudioInfo ai;
        if (caps && gst_audio_info_from_caps(&ai, caps.get()) && ai.bpf > 0 && ai.rate > 0 &&
            GST_BUFFER_PTS_IS_VALID(b)) {
          const guint64 n = gst_buffer_get_size(b) / guint64(ai.bpf);
          static_cast<AudioClock*>(data)->decoded(
              GST_BUFFER_PTS(b),
              GST_BUFFER_PTS(b) + gst_util_uint64_scale_round(n, GST_SECOND, guint64(ai.rate)),
              ai.rate);
        }
        return GST_PAD_PROBE_OK;
      },
      clock, nullptr);
}

// One decode pipeline per stream (rangesrc ! typefind ! decodebin3 ! branch ! appsink), each sought
// to its own position: video to its first frame, audio to its pre-roll. The block cache (the page
// cache for local files) makes the second demuxer's reads nearly free; one shared seek would decode
// the video from the keyframe before the audio pre-roll, often a whole extra GOP.
struct DecodeChain {
  GstStreamType type = GST_STREAM_TYPE_UNKNOWN;
  int64_t seek_ns = 0;
  // Seek to the keyframe at or before seek_ns and decode from there (a draft), rather than
  // accurately to seek_ns.
  bool to_keyframe = false;
  GRef<GstElement> pipeline;
  // decodebin3, or parsebin for a container whose demuxer adds its pads late (late_pads.h).
  // Set when typefind knows the container, on a streaming thread, before either posts.
  GRef<GstElement> decodebin;
  bool parse_only = false;
  int audio_pads = 0;               // parsebin's audio pads so far (streaming thread)
  std::atomic<bool> linked{false};  // the branch to the appsink exists (set on a streaming thread)
  class JobRunner* runner = nullptr;
};

class JobRunner {
 public:
  JobRunner(const SegmentJob& job, const SegmentSink& sink) : job_(job), sink_(sink) {}
  bool run(MediaError* error);
  bool stalled() const { return stalled_; }
  int thread_nice() const { return job_.thread_nice; }

 private:
  bool build_encode(std::string* error);
  bool build_decode(DecodeChain* chain, std::string* error);
  bool start_decode(DecodeChain* chain, bool seek_phase);
  bool rebuild_decode(DecodeChain* chain);
  void plug_decodebin(DecodeChain* chain, GstElement* typefind, GstCaps* container);
  void on_decoded_pad(DecodeChain* chain, GstPad* pad);
  void on_parsed_pad(DecodeChain* chain, GstPad* pad);
  void tune_decoder(GstElement* element);
  void link_video(DecodeChain* chain, GstPad* pad);
  void link_audio(DecodeChain* chain, GstPad* pad);
  void select_streams(DecodeChain* chain, GstStreamCollection* collection);
  GstPadProbeReturn on_output(GstPadProbeInfo* info);
  void fail(const std::string& message);
  void fail(MediaError error);
  bool wait(MediaError* error);

  const SegmentJob& job_;
  const SegmentSink& sink_;

  std::unique_ptr<AudioPacer> pacer_;  // with video and audio; outlives encode_'s streaming
  GRef<GstElement> encode_;
  std::vector<std::unique_ptr<DecodeChain>> chains_;
  GRef<GstElement> video_src_, audio_src_;  // appsrc of the encode side
  std::unique_ptr<FrameGrid> video_grid_;
  std::unique_ptr<SampleGrid> audio_grid_;
  AudioClock audio_clock_;  // the audio decoder's packets, for the SampleGrid

  std::mutex mutex_;  // guards error_
  MediaError error_;  // the first failure: a bus message's error (domain and code kept) or a reason
  std::atomic<bool> failed_{false};
  std::atomic<bool> encode_done_{false};
  std::atomic<int64_t> progress_{0};   // bumped on every buffer: stall detection
  std::atomic<bool> stopping_{false};  // teardown: decode threads no longer wait at the gate
  bool stalled_ = false;               // wait(): no progress for job_.stall_timeout
  int current_ = 0;                    // segment being written (output streaming thread)
};

// Streaming threads post STREAM_STATUS ENTER from themselves when they start: the moment
// to give them (and the threads they start: x264's, libav's) the job's niceness.
static void renice_streaming_thread(GstMessage* msg, int nice) {
  if (nice == 0 || GST_MESSAGE_TYPE(msg) != GST_MESSAGE_STREAM_STATUS) return;
  GstStreamStatusType type;
  gst_message_parse_stream_status(msg, &type, nullptr);
  if (type == GST_STREAM_STATUS_TYPE_ENTER) setpriority(PRIO_PROCESS, id_t(gettid()), nice);
}

void JobRunner::fail(const std::string& message) { fail(MediaError::reason(message)); }

void JobRunner::fail(MediaError error) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (error_.message.empty()) error_ = std::move(error);
  failed_ = true;
}

bool JobRunner::build_encode(std::string* error) {
  encode_ = adopt_ref(gst_pipeline_new("encode"));
  if (job_.thread_nice != 0) {
    GRef<GstBus> bus = adopt_ref(gst_pipeline_get_bus(GST_PIPELINE(encode_.get())));
    gst_bus_set_sync_handler(
        bus.get(),
        [](GstBus*, GstMessage* msg, gpointer nice) {
          renice_streaming_thread(msg, GPOINTER_TO_INT(nice));
          return GST_BUS_PASS;
        },
        GINT_TO_POINTER(job_.thread_nice), nullptr);
  }
  GRef<GstElement> owned_mux = make_element("hlssegmux", "mux", error);
  GstElement* mux = owned_mux.get();
  GRef<GstElement> owned_out = make_element("fakesink", "out", error);
  GstElement* out = owned_out.get();
  if (!mux || !out) return false;
  std::string boundaries, audio_boundaries;
  for (int k = job_.first; k <= job_.last + 1; ++k) {
    const bool end = k == job_.last + 1;
    const PlannedSegment& seg = job_.plan.segments[end ? job_.last : k];
    if (job_.has_video) {
      int64_t f = end ? seg.end_frame : seg.first_frame;
      boundaries += (boundaries.empty() ? "" : ",") +
                    ns_to_seconds(frames_to_ns(f, job_.plan.input.frame_rate));
    }
    if (job_.has_audio) {
      int64_t a = end ? seg.end_sample : seg.first_sample;
      audio_boundaries += (audio_boundaries.empty() ? "" : ",") +
                          ns_to_seconds(samples_to_ns(a, job_.plan.input.audio_rate));
    }
  }
  if (boundaries.empty()) boundaries = audio_boundaries;
  // strict: the plan's boundaries exactly (the encoder is told them, FrameGrid), indices the
  // plan's, and a segment without its keyframe is an error rather than a longer segment.
  g_object_set(mux, "boundaries", boundaries.c_str(), "first-index", guint(job_.first), "strict",
               TRUE, nullptr);
  if (job_.has_audio) g_object_set(mux, "audio-boundaries", audio_boundaries.c_str(), nullptr);
  g_object_set(out, "sync", FALSE, "async", FALSE, nullptr);
  gst_bin_add_many(GST_BIN(encode_.get()), mux, out, nullptr);
  if (!gst_element_link(mux, out)) {
    *error = "cannot link the muxer output";
    return false;
  }
  GRef<GstPad> out_pad = adopt_ref(gst_element_get_static_pad(out, "sink"));
  gst_pad_add_probe(
      out_pad.get(),
      GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
      [](GstPad*, GstPadProbeInfo* info, gpointer self) {
        return static_cast<JobRunner*>(self)->on_output(info);
      },
      this, nullptr);

  GRef<GstPad> video_encoder_in;  // for the audio pacer, once the audio side exists
  if (job_.has_video) {
    video_src_ = make_element("appsrc", "video_src", error);
    if (!video_src_) return false;
    const EncoderMode mode = job_.draft ? EncoderMode::kDraft
                             : job_.first < quick_start_segments(job_.plan)
                                 ? EncoderMode::kQuickStart
                             : job_.waited ? EncoderMode::kWaited
                                           : EncoderMode::kNormal;
    GRef<GstElement> owned_enc = make_video_encoder(job_.video, job_.plan, mode, error);
    GstElement* enc = owned_enc.get();
    if (!enc) return false;
    const bool h265 = job_.video.codec == "h265";
    GRef<GstElement> owned_parse = make_element(h265 ? "h265parse" : "h264parse", nullptr, error);
    GstElement* parse = owned_parse.get();
    GRef<GstElement> owned_queue = make_element("queue", nullptr, error);
    GstElement* queue = owned_queue.get();
    if (!parse || !queue) return false;
    g_object_set(parse, "config-interval", -1, nullptr);
    g_object_set(queue, "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time", guint64(0),
                 nullptr);
    const VideoTarget& v = job_.video;
    GRef<GstCaps> caps = adopt_ref(gst_caps_new_simple(
        "video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT, v.width, "height",
        G_TYPE_INT, v.height, "framerate", GST_TYPE_FRACTION, v.frame_rate.num, v.frame_rate.den,
        "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, "interlace-mode", G_TYPE_STRING,
        "progressive", nullptr));
    configure_appsrc(video_src_.get(), caps.get(), 6ull * v.width * v.height * 3 / 2);
    gst_bin_add_many(GST_BIN(encode_.get()), video_src_.get(), enc, parse, queue, nullptr);
    if (!gst_element_link_many(video_src_.get(), enc, parse, queue, nullptr) ||
        !link_to_request_pad(queue, mux, "video")) {
      *error = "cannot link the video encoder";
      return false;
    }
    video_grid_ = std::make_unique<FrameGrid>(job_, video_src_.get());
    video_encoder_in = adopt_ref(gst_element_get_static_pad(enc, "sink"));
  }
  if (job_.has_audio) {
    audio_src_ = make_element("appsrc", "audio_src", error);
    GRef<GstElement> owned_conv = make_element("audioconvert", nullptr, error);
    GstElement* conv = owned_conv.get();
    GRef<GstElement> owned_enc = make_element("avenc_aac", nullptr, error);
    GstElement* enc = owned_enc.get();
    GRef<GstElement> owned_parse = make_element("aacparse", nullptr, error);
    GstElement* parse = owned_parse.get();
    GRef<GstElement> owned_queue = make_element("queue", nullptr, error);
    GstElement* queue = owned_queue.get();
    if (!audio_src_ || !conv || !enc || !parse || !queue) return false;
    g_object_set(enc, "bitrate", job_.audio.bitrate, nullptr);
    // gst-libav maps ffmpeg's aac_ms "auto" (-1) to a boolean defaulting to TRUE: M/S coding
    // forced on every band, which mixed a tone in the left channel into the right at 0.94x
    // (128 kbit/s) to 0.99x (64k) its level (ffmpeg's own default keeps them apart).
    // Off, the channels stay apart (tests/e2e/test_conform.py).
    g_object_set(enc, "aac-ms", FALSE, nullptr);
    // Without M/S, ffmpeg's default "twoloop" coder leaves far more noise on a steady tone
    // (stereo, RMS of the tone's amplitude: 0.18 at 32 kbit/s, 0.11 at 48k, 0.026-0.06 at
    // 64k); its "fast" constant-quantizer coder leaves 0.0003-0.0013 at the same sizes.
    gst_util_set_object_arg(G_OBJECT(enc), "aac-coder", "fast");
    g_object_set(queue, "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time", guint64(0),
                 nullptr);
    GRef<GstCaps> caps = adopt_ref(gst_caps_new_simple(
        "audio/x-raw", "format", G_TYPE_STRING, "F32LE", "layout", G_TYPE_STRING, "interleaved",
        "rate", G_TYPE_INT, job_.audio.sample_rate, "channels", G_TYPE_INT, job_.audio.channels,
        nullptr));
    // Positions for every count (3..8: the usual layouts, 5.1 for 6, 7.1 for 8): without them
    // audioconvert refuses more than two channels.
    gst_caps_set_simple(caps.get(), "channel-mask", GST_TYPE_BITMASK,
                        gst_audio_channel_get_fallback_mask(job_.audio.channels), nullptr);
    configure_appsrc(audio_src_.get(), caps.get(), 1 << 20);
    // The encoder's delay: its packet stamped T decodes to the samples at T - 1024 (the first
    // packet is priming). Restamped to the time of what they hold, so that sound plays in sync
    // with the picture in players that know nothing of the delay (MPEG-TS carries no edit
    // list): measured 23.2 ms late at 44.1 kHz without it. The priming packet, before 0, goes.
    GRef<GstPad> coded = adopt_ref(gst_element_get_static_pad(enc, "src"));
    gst_pad_add_probe(
        coded.get(), GST_PAD_PROBE_TYPE_BUFFER,
        [](GstPad*, GstPadProbeInfo* info, gpointer data) {
          const int rate = GPOINTER_TO_INT(data);
          GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info);
          if (!GST_BUFFER_PTS_IS_VALID(b)) return GST_PAD_PROBE_OK;
          const int64_t n =
              int64_t(gst_util_uint64_scale_round(GST_BUFFER_PTS(b), guint64(rate), GST_SECOND));
          if (n < kAacFrame) return GST_PAD_PROBE_DROP;
          b = gst_buffer_make_writable(b);
          GST_BUFFER_PTS(b) = samples_to_ns(n - kAacFrame, rate);
          GST_BUFFER_DTS(b) = GST_BUFFER_PTS(b);
          GST_PAD_PROBE_INFO_DATA(info) = b;
          return GST_PAD_PROBE_OK;
        },
        GINT_TO_POINTER(job_.audio.sample_rate), nullptr);
    gst_bin_add_many(GST_BIN(encode_.get()), audio_src_.get(), conv, enc, parse, queue, nullptr);
    if (!gst_element_link_many(audio_src_.get(), conv, enc, parse, queue, nullptr) ||
        !link_to_request_pad(queue, mux, "audio")) {
      *error = "cannot link the audio encoder";
      return false;
    }
    audio_grid_ = std::make_unique<SampleGrid>(job_, audio_src_.get(), kAudioPreroll);
    audio_grid_->set_clock(&audio_clock_);
    if (video_encoder_in) {
      const PlannedSegment& first = job_.plan.segments[job_.first];
      pacer_ = std::make_unique<AudioPacer>(
          int64_t(frames_to_ns(first.first_frame, job_.plan.input.frame_rate)), kAudioLead);
      GRef<GstPad> audio_in = adopt_ref(gst_element_get_static_pad(conv, "sink"));
      pacer_->attach(video_encoder_in.get(), audio_in.get());
    }
  }
  return true;
}

GstPadProbeReturn JobRunner::on_output(GstPadProbeInfo* info) {
  progress_++;
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    MappedBuffer map(buffer, GST_MAP_READ);
    if (!map || !sink_.data(current_, map.data(), map.size())) {
      fail("cancelled");
      return GST_PAD_PROBE_DROP;
    }
    return GST_PAD_PROBE_OK;
  }
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (gst_video_event_is_force_key_unit(event)) {
    guint count = 0;
    gst_video_event_parse_downstream_force_key_unit(event, nullptr, nullptr, nullptr, nullptr,
                                                    &count);
    current_ = int(count);
    sink_.begin(int(count));
  } else if (GST_EVENT_TYPE(event) == GST_EVENT_CUSTOM_DOWNSTREAM &&
             gst_event_has_name(event, "hlssegmux-segment-end")) {
    sink_.end(report_from_structure(gst_event_get_structure(event)));
  } else if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
    encode_done_ = true;
  }
  return GST_PAD_PROBE_OK;
}

bool JobRunner::build_decode(DecodeChain* chain, std::string* error) {
  chain->runner = this;
  chain->pipeline = adopt_ref(gst_pipeline_new(nullptr));
  chain->decodebin = {};
  chain->parse_only = false;
  chain->audio_pads = 0;
  GRef<GstElement> owned_src = make_element("rangesrc", nullptr, error);
  GstElement* src = owned_src.get();
  GRef<GstElement> owned_find = make_element("typefind", nullptr, error);
  GstElement* find = owned_find.get();
  if (!src || !find) return false;
  // A segment job reads its stretch of the source front to back: 1 MiB blocks and 4 blocks of
  // read-ahead make one backend request per 5 MiB (a few GETs per segment from S3).
  g_object_set(src, "location", job_.source.c_str(), "block-size", guint(kSourceBlock), "readahead",
               guint(kSourceReadahead), nullptr);
  gst_bin_add_many(GST_BIN(chain->pipeline.get()), src, find, nullptr);
  if (!gst_element_link(src, find)) {
    *error = "cannot link the source";
    return false;
  }
  // The decoding bin is chosen by the container (late_pads.h), added as soon as it is known.
  g_signal_connect(find, "have-type",
                   G_CALLBACK(+[](GstElement* typefind, guint, GstCaps* caps, gpointer data) {
                     auto* c = static_cast<DecodeChain*>(data);
                     c->runner->plug_decodebin(c, typefind, caps);
                   }),
                   chain);
  GRef<GstBus> bus = adopt_ref(gst_pipeline_get_bus(GST_PIPELINE(chain->pipeline.get())));
  gst_bus_set_sync_handler(
      bus.get(),
      [](GstBus*, GstMessage* msg, gpointer data) {
        auto* c = static_cast<DecodeChain*>(data);
        renice_streaming_thread(msg, c->runner->thread_nice());
        if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_STREAM_COLLECTION && !c->parse_only) {
          GstStreamCollection* collection = nullptr;
          gst_message_parse_stream_collection(msg, &collection);
          if (collection) {
            c->runner->select_streams(c, collection);
            gst_object_unref(collection);
          }
        }
        return GST_BUS_PASS;
      },
      chain, nullptr);
  return true;
}

// gst-libav's direct rendering decodes into our pool buffers, but libav keeps each frame mapped
// for writing as a reference, so GstVideoDecoder (1.22) deep-copies every frame it pushes (3 MB
// per 1080p frame). With it off avdec copies once into a pool buffer of its own: measured 1-10 %
// less CPU per segment (bench/engine.py, idle host). Pre-roll frames nothing refers to are
// dropped before the decoder (preroll_filter.h); the decoder runs one thread where that is
// cheaper (decoder_threads.h).
void JobRunner::tune_decoder(GstElement* element) {
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(element), "direct-rendering"))
    g_object_set(element, "direct-rendering", FALSE, nullptr);
  if (GST_IS_VIDEO_DECODER(element)) {
    limit_decoder_threads(element);
    if (!job_.decode_whole_preroll) drop_unreferenced_preroll(element, job_.preroll_dropped);
  }
  if (GST_IS_AUDIO_DECODER(element)) watch_audio_decoder(element, &audio_clock_);
}

// On typefind's streaming thread, once it knows the container: decodebin3 after it, or
// parsebin for a demuxer that adds its pads late.
void JobRunner::plug_decodebin(DecodeChain* chain, GstElement* typefind, GstCaps* container) {
  if (chain->decodebin) return;
  chain->parse_only = adds_pads_late(container);
  std::string error;
  GRef<GstElement> bin =
      make_element(chain->parse_only ? "parsebin" : "decodebin3", nullptr, &error);
  if (!bin) return fail(error);
  if (chain->parse_only) {
    g_signal_connect(bin.get(), "pad-added",
                     G_CALLBACK(+[](GstElement*, GstPad* pad, gpointer data) {
                       auto* c = static_cast<DecodeChain*>(data);
                       c->runner->on_parsed_pad(c, pad);
                     }),
                     chain);
  } else {
    g_signal_connect(bin.get(), "deep-element-added",
                     G_CALLBACK(+[](GstBin*, GstBin*, GstElement* element, gpointer data) {
                       static_cast<JobRunner*>(data)->tune_decoder(element);
                     }),
                     this);
    g_signal_connect(bin.get(), "pad-added",
                     G_CALLBACK(+[](GstElement*, GstPad* pad, gpointer data) {
                       auto* c = static_cast<DecodeChain*>(data);
                       c->runner->on_decoded_pad(c, pad);
                     }),
                     chain);
  }
  chain->decodebin = bin;
  // This runs on typefind's streaming thread, holding its stream lock, and the pipeline may be
  // changing state on another: left to that change, the new bin's activation would wait for
  // typefind's stream lock while this thread waits for the bin's state lock (a deadlock, 1 job
  // in 60 under load). So the bin joins with its state locked, is brought to the pipeline's
  // state here, and then follows the pipeline again.
  GstElement* pipeline = chain->pipeline.get();
  gst_element_set_locked_state(bin.get(), TRUE);
  gst_bin_add(GST_BIN(pipeline), bin.get());
  if (!gst_element_link(typefind, bin.get())) return fail("cannot link the source");
  GST_OBJECT_LOCK(pipeline);
  const GstState target = GST_STATE_PENDING(pipeline) != GST_STATE_VOID_PENDING
                              ? GST_STATE_PENDING(pipeline)
                              : GST_STATE(pipeline);
  GST_OBJECT_UNLOCK(pipeline);
  gst_element_set_state(bin.get(), target);
  gst_element_set_locked_state(bin.get(), FALSE);
}

// Decodes only the chain's stream: the first video stream, or the chosen audio stream.
void JobRunner::select_streams(DecodeChain* chain, GstStreamCollection* collection) {
  GList* ids = nullptr;
  int audio_index = 0;
  for (guint i = 0; i < gst_stream_collection_get_size(collection) && !ids; ++i) {
    GstStream* stream = gst_stream_collection_get_stream(collection, i);
    GstStreamType type = gst_stream_get_stream_type(stream);
    const gchar* id = gst_stream_get_stream_id(stream);
    if ((type & GST_STREAM_TYPE_VIDEO) && chain->type == GST_STREAM_TYPE_VIDEO) {
      ids = g_list_append(ids, (gpointer)id);
    } else if (type & GST_STREAM_TYPE_AUDIO) {
      if (chain->type == GST_STREAM_TYPE_AUDIO && audio_index == job_.audio.stream)
        ids = g_list_append(ids, (gpointer)id);
      ++audio_index;
    }
  }
  if (ids) gst_element_send_event(chain->decodebin.get(), gst_event_new_select_streams(ids));
  g_list_free(ids);
}

// A stream nobody decodes ends in a fakesink: an unlinked pad would stop the demuxer.
static void discard(DecodeChain* chain, GstPad* pad) {
  GstElement* fake = gst_element_factory_make("fakesink", nullptr);
  g_object_set(fake, "sync", FALSE, "async", FALSE, nullptr);
  gst_bin_add(GST_BIN(chain->pipeline.get()), fake);
  gst_element_sync_state_with_parent(fake);
  GRef<GstPad> sink = adopt_ref(gst_element_get_static_pad(fake, "sink"));
  gst_pad_link(pad, sink.get());
}

// The type of a stream: its GstStream's, else its caps' (either may be null).
static GstStreamType stream_type(GstStream* stream, GstCaps* caps) {
  if (stream && gst_stream_get_stream_type(stream) != GST_STREAM_TYPE_UNKNOWN)
    return gst_stream_get_stream_type(stream);
  const char* name = caps && !gst_caps_is_empty(caps)
                         ? gst_structure_get_name(gst_caps_get_structure(caps, 0))
                         : "";
  if (g_str_has_prefix(name, "video/") || g_str_has_prefix(name, "image/"))
    return GST_STREAM_TYPE_VIDEO;
  if (g_str_has_prefix(name, "audio/")) return GST_STREAM_TYPE_AUDIO;
  return GST_STREAM_TYPE_UNKNOWN;
}

// parsebin's pads, as the demuxer adds them: the chain's stream gets a decoder of its own (none
// when it is raw already), the others' packets are dropped. Audio streams are counted in the order
// they come, as the probe counted them.
void JobRunner::on_parsed_pad(DecodeChain* chain, GstPad* pad) {
  // The parser's caps; before they are set (a pad exposed while prerolling for a seek), the
  // stream's, which parsebin knows from the parser's first caps.
  GRef<GstStream> stream = adopt_ref(gst_pad_get_stream(pad));
  GRef<GstCaps> caps = adopt_ref(gst_pad_get_current_caps(pad));
  if (!caps && stream) caps = adopt_ref(gst_stream_get_caps(stream.get()));
  if (!caps) caps = adopt_ref(gst_pad_query_caps(pad, nullptr));
  const GstStreamType type = stream_type(stream.get(), caps.get());
  bool wanted = (type & chain->type) && !chain->linked;
  if (type & GST_STREAM_TYPE_AUDIO) wanted = wanted && chain->audio_pads++ == job_.audio.stream;
  if (!wanted) {
    // No fakesink: parsebin has no queue between the demuxer's streams, and a sink would hold
    // the demuxer's one thread in its pre-roll (PAUSED, waiting to play) while the wanted
    // stream's decoder waits for more packets.
    gst_pad_add_probe(
        pad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
        [](GstPad*, GstPadProbeInfo*, gpointer) { return GST_PAD_PROBE_DROP; }, nullptr, nullptr);
    return;
  }
  const char* name = gst_structure_get_name(gst_caps_get_structure(caps.get(), 0));
  GRef<GstPad> decoded = add_ref(pad);
  if (!g_str_equal(name, "video/x-raw") && !g_str_equal(name, "audio/x-raw")) {
    GRef<GstElement> decoder = make_decoder_for(caps.get());
    if (!decoder) return fail(std::string("no decoder for ") + name);
    tune_decoder(decoder.get());
    gst_bin_add(GST_BIN(chain->pipeline.get()), decoder.get());
    gst_element_sync_state_with_parent(decoder.get());
    GRef<GstPad> sink = adopt_ref(gst_element_get_static_pad(decoder.get(), "sink"));
    if (gst_pad_link(pad, sink.get()) != GST_PAD_LINK_OK)
      return fail(std::string("cannot link a decoder for ") + name);
    decoded = adopt_ref(gst_element_get_static_pad(decoder.get(), "src"));
  }
  if (chain->type == GST_STREAM_TYPE_VIDEO)
    link_video(chain, decoded.get());
  else
    link_audio(chain, decoded.get());
  chain->linked = true;
}

void JobRunner::on_decoded_pad(DecodeChain* chain, GstPad* pad) {
  GRef<GstStream> stream = adopt_ref(gst_pad_get_stream(pad));
  const GstStreamType type = stream_type(stream.get(), nullptr);
  if ((type & chain->type) && !chain->linked) {
    if (chain->type == GST_STREAM_TYPE_VIDEO)
      link_video(chain, pad);
    else
      link_audio(chain, pad);
    chain->linked = true;
  } else {
    discard(chain, pad);
  }
}

// videoflip's video-direction for a clockwise turn in degrees; null for none.
static const char* video_direction(int degrees) {
  switch (((degrees % 360) + 360) % 360) {
    case 90:
      return "90r";
    case 180:
      return "180";
    case 270:
      return "90l";
    default:
      return nullptr;
  }
}

// Adds a chain of elements after `pad`, ending in an appsink whose samples go to `on_sample`.
template <typename Grid>
static bool add_branch(GstElement* bin, GstPad* pad, std::vector<GstElement*> chain, Grid* grid,
                       std::atomic<int64_t>* progress, JobGate* gate,
                       const std::atomic<bool>* stopping) {
  GstElement* sink = gst_element_factory_make("appsink", nullptr);
  g_object_set(sink, "sync", FALSE, "max-buffers", 4u, "enable-last-sample", FALSE, nullptr);
  chain.push_back(sink);
  for (GstElement* e : chain) gst_bin_add(GST_BIN(bin), e);
  for (size_t i = 0; i + 1 < chain.size(); ++i)
    if (!gst_element_link(chain[i], chain[i + 1])) return false;
  struct Ctx {
    Grid* grid;
    std::atomic<int64_t>* progress;
    GstElement* pipeline;
    JobGate* gate;
    const std::atomic<bool>* job_stopping;  // the runner is tearing the job down
    bool stopping = false;                  // streaming thread only
  };
  GstAppSinkCallbacks callbacks{};
  callbacks.eos = [](GstAppSink*, gpointer data) { static_cast<Ctx*>(data)->grid->finish(); };
  callbacks.new_sample = [](GstAppSink* appsink, gpointer data) -> GstFlowReturn {
    auto* ctx = static_cast<Ctx*>(data);
    GRef<GstSample> sample = adopt_ref(gst_app_sink_pull_sample(appsink));
    if (ctx->gate) ctx->gate->wait(*ctx->job_stopping);
    ++*ctx->progress;
    if (sample && ctx->grid->push(sample.get())) return GST_FLOW_OK;
    // The grid is complete. The demuxer would go on reading the source to its end for the
    // streams nobody decodes (an EOS from this branch stops only this stream): stop the
    // chain now, from another thread (a streaming thread cannot change its own pipeline).
    if (!ctx->stopping) {
      ctx->stopping = true;
      gst_element_call_async(
          ctx->pipeline,
          [](GstElement* pipeline, gpointer) { gst_element_set_state(pipeline, GST_STATE_NULL); },
          nullptr, nullptr);
    }
    return GST_FLOW_EOS;
  };
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks,
                             new Ctx{grid, progress, bin, gate, stopping},
                             [](gpointer data) { delete static_cast<Ctx*>(data); });
  for (GstElement* e : chain) gst_element_sync_state_with_parent(e);
  GRef<GstPad> first = adopt_ref(gst_element_get_static_pad(chain.front(), "sink"));
  return gst_pad_link(pad, first.get()) == GST_PAD_LINK_OK;
}

// True when the decoded video is HDR (PQ or HLG transfer). decodebin3 exposes its pad before
// the decoder's caps: then the stream's caps (the parser's, colorimetry from the bitstream or
// the container) tell.
static bool hdr_video(GstPad* pad) {
  GRef<GstCaps> caps = adopt_ref(gst_pad_get_current_caps(pad));
  if (!caps) {
    GRef<GstStream> stream = adopt_ref(gst_pad_get_stream(pad));
    if (stream) caps = adopt_ref(gst_stream_get_caps(stream.get()));
  }
  if (!caps || gst_caps_is_empty(caps.get())) return false;
  const gchar* text =
      gst_structure_get_string(gst_caps_get_structure(caps.get(), 0), "colorimetry");
  GstVideoColorimetry colorimetry;
  if (!text || !gst_video_colorimetry_from_string(&colorimetry, text)) return false;
  return colorimetry.transfer == GST_VIDEO_TRANSFER_SMPTE2084 ||
         colorimetry.transfer == GST_VIDEO_TRANSFER_ARIB_STD_B67;
}

void JobRunner::link_video(DecodeChain* chain, GstPad* pad) {
  const VideoTarget& v = job_.video;
  std::string error;
  GRef<GstElement> owned_convert = make_element("videoconvert", nullptr, &error);
  GstElement* convert = owned_convert.get();
  GRef<GstElement> owned_deinterlace = make_element("deinterlace", nullptr, &error);
  GstElement* deinterlace = owned_deinterlace.get();
  GRef<GstElement> owned_scale = make_element("videoconvertscale", nullptr, &error);
  GstElement* scale = owned_scale.get();
  GRef<GstElement> owned_filter = make_element("capsfilter", nullptr, &error);
  GstElement* filter = owned_filter.get();
  if (!convert || !deinterlace || !scale || !filter) return fail(error);
  std::vector<GstElement*> elements;
  std::vector<GRef<GstElement>> optional;  // elements made below only when needed, held to the end
  // HDR is tone mapped to SDR BT.709 first, or it plays washed out: the rest of the chain
  // copies code values. hdrtonemap takes the decoders' 10/12-bit formats (the videoconvert in
  // front acts only on others) and gives 8-bit BT.709 I420.
  if (hdr_video(pad)) {
    GRef<GstElement> owned_hdr_convert = make_element("videoconvert", nullptr, &error);
    GstElement* hdr_convert = owned_hdr_convert.get();
    GRef<GstElement> owned_tonemap = make_element("hdrtonemap", nullptr, &error);
    GstElement* tonemap = owned_tonemap.get();
    if (!hdr_convert || !tonemap) return fail(error);
    elements = {hdr_convert, tonemap};
    optional.push_back(std::move(owned_hdr_convert));
    optional.push_back(std::move(owned_tonemap));
  }
  elements.push_back(convert);
  elements.push_back(deinterlace);
  // The turn is known from the probe (the source's orientation tag) and the target. videoflip
  // copies every frame even when it turns nothing, so it is there only when it turns.
  if (const char* direction = video_direction(v.source_rotation + v.rotation)) {
    GRef<GstElement> owned_flip = make_element("videoflip", nullptr, &error);
    GstElement* flip = owned_flip.get();
    if (!flip) return fail(error);
    gst_util_set_object_arg(G_OBJECT(flip), "video-direction", direction);
    elements.push_back(flip);
    optional.push_back(std::move(owned_flip));
  }
  // stretch means stretch: no letterboxing to keep the aspect (fill pads with videobox).
  g_object_set(scale, "add-borders", FALSE, nullptr);
  // The default "bilinear" reads 2 source pixels per output pixel whatever the ratio, so a
  // downscale aliases fine detail into patterns x264 then spends bits on. "bilinear2" widens
  // the filter with the ratio. 1080p to 720p veryfast CRF 23 (bench source): 25 % fewer
  // bytes, PSNR against a lanczos downscale 42.1 -> 45.0 dB, about 1-2 % more CPU.
  gst_util_set_object_arg(G_OBJECT(scale), "method", "bilinear2");
  const int pw = v.picture_width > 0 ? v.picture_width : v.width;
  const int ph = v.picture_height > 0 ? v.picture_height : v.height;
  GRef<GstCaps> caps = adopt_ref(gst_caps_new_simple(
      "video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT, pw, "height", G_TYPE_INT,
      ph, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, nullptr));
  g_object_set(filter, "caps", caps.get(), nullptr);
  elements.push_back(scale);
  elements.push_back(filter);
  if (pw != v.width || ph != v.height) {
    // fill pads (negative), crop cuts (positive), centred.
    GRef<GstElement> owned_box = make_element("videobox", nullptr, &error);
    GstElement* box = owned_box.get();
    if (!box) return fail(error);
    const int dx = pw - v.width, dy = ph - v.height;
    g_object_set(box, "left", dx / 2, "right", dx - dx / 2, "top", dy / 2, "bottom", dy - dy / 2,
                 nullptr);
    elements.push_back(box);
    optional.push_back(std::move(owned_box));
  }
  if (!add_branch(chain->pipeline.get(), pad, elements, video_grid_.get(), &progress_,
                  job_.gate.get(), &stopping_))
    fail("cannot link the video decoder");
}

void JobRunner::link_audio(DecodeChain* chain, GstPad* pad) {
  std::string error;
  GRef<GstElement> owned_convert = make_element("audioconvert", nullptr, &error);
  GstElement* convert = owned_convert.get();
  GRef<GstElement> owned_resample = make_element("audioresample", nullptr, &error);
  GstElement* resample = owned_resample.get();
  GRef<GstElement> owned_filter = make_element("capsfilter", nullptr, &error);
  GstElement* filter = owned_filter.get();
  if (!convert || !resample || !filter) return fail(error);
  GRef<GstCaps> caps = adopt_ref(
      gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING, "F32LE", "layout", G_TYPE_STRING,
                          "interleaved", "rate", G_TYPE_INT, job_.audio.sample_rate, "channels",
                          G_TYPE_INT, job_.audio.channels, "channel-mask", GST_TYPE_BITMASK,
                          gst_audio_channel_get_fallback_mask(job_.audio.channels), nullptr));
  g_object_set(filter, "caps", caps.get(), nullptr);
  // More channels than the target's stereo: the standard downmix (downmix.h), set from the
  // decoded caps before audioconvert sees them.
  GRef<GstPad> convert_sink = adopt_ref(gst_element_get_static_pad(convert, "sink"));
  gst_pad_add_probe(
      convert_sink.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      [](GstPad* pad, GstPadProbeInfo* info, gpointer data) {
        GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
        if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;
        GstCaps* caps = nullptr;
        gst_event_parse_caps(event, &caps);
        GstAudioInfo in;
        if (caps && gst_audio_info_from_caps(&in, caps)) {
          const auto matrix = stereo_downmix(in, GPOINTER_TO_INT(data));
          if (!matrix.empty()) {
            GRef<GstElement> convert = adopt_ref(gst_pad_get_parent_element(pad));
            set_mix_matrix(convert.get(), matrix);
          }
        }
        return GST_PAD_PROBE_OK;
      },
      GINT_TO_POINTER(job_.audio.channels), nullptr);
  if (!add_branch(chain->pipeline.get(), pad, {convert, resample, filter}, audio_grid_.get(),
                  &progress_, job_.gate.get(), &stopping_))
    fail("cannot link the audio decoder");
}

bool JobRunner::wait(MediaError* error) {
  GRef<GstBus> encode_bus = adopt_ref(gst_pipeline_get_bus(GST_PIPELINE(encode_.get())));
  auto last_change = std::chrono::steady_clock::now();
  int64_t last_progress = -1;
  const auto types = GstMessageType(GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  while (!failed_) {
    if (job_.gate && job_.gate->cancelled()) {
      fail("cancelled");
      break;
    }
    GRef<GstMessage> msg =
        adopt_ref(gst_bus_timed_pop_filtered(encode_bus.get(), 20 * GST_MSECOND, types));
    if (msg && GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_EOS) break;
    if (msg) fail(MediaError::from_message(msg.get()));
    for (auto& chain : chains_) {
      GRef<GstBus> bus = adopt_ref(gst_pipeline_get_bus(GST_PIPELINE(chain->pipeline.get())));
      GRef<GstMessage> dmsg = adopt_ref(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
      // Errors after a grid is complete (we stopped pulling) do not matter.
      const bool complete =
          chain->type == GST_STREAM_TYPE_VIDEO ? video_grid_->done() : audio_grid_->done();
      if (dmsg && !complete) fail(MediaError::from_message(dmsg.get()));
    }
    const auto now = std::chrono::steady_clock::now();
    if (progress_ != last_progress || (job_.gate && job_.gate->held())) {
      last_progress = progress_;
      last_change = now;
    } else if (now - last_change > std::chrono::seconds(job_.stall_timeout)) {
      stalled_ = true;
      fail("no progress for " + std::to_string(job_.stall_timeout) + " s: the transcode stalled");
    }
  }
  if (failed_) {
    std::lock_guard<std::mutex> lock(mutex_);
    *error = error_;
    return false;
  }
  return true;
}

// Prerolls, seeks accurately to the chain's position when it is not the start, and plays.
// Called once per chain in two phases (PAUSED for all, then seek and play each), so that the
// chains open the source and preroll concurrently.
// A fresh decode pipeline in place of the chain's (stopped, its branch gone): the audio clock
// starts over with it.
bool JobRunner::rebuild_decode(DecodeChain* chain) {
  gst_element_set_state(chain->pipeline.get(), GST_STATE_NULL);
  chain->linked = false;
  if (chain->type == GST_STREAM_TYPE_AUDIO) audio_clock_.reset();
  std::string error;
  if (build_decode(chain, &error)) return true;
  fail(error);
  return false;
}

bool JobRunner::start_decode(DecodeChain* chain, bool seek_phase) {
  GstElement* pipeline = chain->pipeline.get();
  if (!seek_phase) {
    GST_INFO("%s chain: start at %" GST_TIME_FORMAT,
             chain->type == GST_STREAM_TYPE_VIDEO ? "video" : "audio",
             GST_TIME_ARGS(chain->seek_ns));
    const GstState state = chain->seek_ns > 0 ? GST_STATE_PAUSED : GST_STATE_PLAYING;
    if (gst_element_set_state(pipeline, state) != GST_STATE_CHANGE_FAILURE) return true;
    fail("cannot start decoding the source");
    return false;
  }
  // PAUSED completes at once (no sink yet); the seek needs the appsink branch, which
  // appears when decodebin3 (or parsebin) exposes the stream, and its preroll. Should a
  // demuxer other than those late_pads.h knows add its pads one by one, decodebin3 1.22 may
  // never expose the stream (late_pads.h); a fresh pipeline nearly always gets it right: a few
  // tries, seconds apart, rather than one long wait.
  constexpr int kLinkTries = 4;
  constexpr gint64 kLinkWait = 8 * G_USEC_PER_SEC;
  for (int attempt = 1; !chain->linked && !failed_; ++attempt) {
    GRef<GstBus> bus = adopt_ref(gst_pipeline_get_bus(GST_PIPELINE(pipeline)));
    const gint64 deadline = g_get_monotonic_time() + kLinkWait;
    while (!chain->linked && !failed_ && g_get_monotonic_time() < deadline) {
      GRef<GstMessage> msg =
          adopt_ref(gst_bus_timed_pop_filtered(bus.get(), 5 * GST_MSECOND, GST_MESSAGE_ERROR));
      if (msg) fail(MediaError::from_message(msg.get()));
    }
    if (chain->linked || failed_) break;
    if (attempt == kLinkTries) {
      fail("the source exposes no decodable stream");
      break;
    }
    GST_WARNING("no %s stream exposed in %d s: a fresh decoder (try %d of %d)",
                chain->type == GST_STREAM_TYPE_VIDEO ? "video" : "audio",
                int(kLinkWait / G_USEC_PER_SEC), attempt + 1, kLinkTries);
    if (!rebuild_decode(chain)) return false;
    pipeline = chain->pipeline.get();
    if (gst_element_set_state(pipeline,
                              chain->seek_ns > 0 ? GST_STATE_PAUSED : GST_STATE_PLAYING) ==
        GST_STATE_CHANGE_FAILURE) {
      fail("cannot start decoding the source");
      return false;
    }
  }
  if (failed_) return false;
  if (chain->seek_ns == 0) return true;
  GRef<GstBus> bus = adopt_ref(gst_pipeline_get_bus(GST_PIPELINE(pipeline)));
  bool ok = !failed_ && gst_element_get_state(pipeline, nullptr, nullptr, 60 * GST_SECOND) ==
                            GST_STATE_CHANGE_SUCCESS;
  // A source that cannot seek (an FLV or a RealMedia file without index, say) is decoded from
  // its start: the grids drop what comes before the segment, so the result is the same, only
  // slower. In a pipeline of its own: a demuxer that refuses a seek may have left this one
  // flushing for good (rmdemux 1.22 sends flush-start and, failing, no flush-stop).
  const GstSeekFlags flags =
      chain->to_keyframe
          ? GstSeekFlags(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT | GST_SEEK_FLAG_SNAP_BEFORE)
          : GstSeekFlags(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE);
  if (ok && !gst_element_seek_simple(pipeline, GST_FORMAT_TIME, flags, chain->seek_ns)) {
    GST_WARNING("seek to %" GST_TIME_FORMAT " failed: decoding from the start",
                GST_TIME_ARGS(chain->seek_ns));
    chain->seek_ns = 0;
    if (!rebuild_decode(chain)) return false;
    pipeline = chain->pipeline.get();
    bus = adopt_ref(gst_pipeline_get_bus(GST_PIPELINE(pipeline)));
  }
  ok = ok && gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE;
  if (!ok) {
    GRef<GstMessage> msg = adopt_ref(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
    fail(msg ? MediaError::from_message(msg.get())
             : MediaError::reason("cannot start decoding the source"));
  }
  return ok;
}

bool JobRunner::run(MediaError* error) {
  if (job_.first < 0 || job_.last < job_.first || job_.last >= int(job_.plan.segments.size())) {
    *error = MediaError::reason("segment range out of the plan");
    return false;
  }
  if (!job_.has_video && !job_.has_audio) {
    *error = MediaError::reason("the target has neither video nor audio");
    return false;
  }
  std::string why;
  if (!build_encode(&why)) {
    *error = MediaError::reason(why);
    return false;
  }
  const PlannedSegment& first = job_.plan.segments[job_.first];
  const int64_t clip = int64_t(job_.source_start * GST_SECOND + 0.5);
  if (job_.has_video) {
    auto chain = std::make_unique<DecodeChain>();
    chain->type = GST_STREAM_TYPE_VIDEO;
    chain->seek_ns = clip + int64_t(frames_to_ns(first.first_frame, job_.plan.input.frame_rate));
    if (job_.draft) {
      // The keyframe at or before the last frame: the frame grid repeats its picture back to
      // the first frame (FrameGrid pads the start with the first frame decoded).
      const int64_t last_frame = job_.plan.segments[job_.last].end_frame - 1;
      chain->seek_ns = clip + int64_t(frames_to_ns(last_frame, job_.plan.input.frame_rate));
      chain->to_keyframe = true;
    }
    chains_.push_back(std::move(chain));
  }
  if (job_.has_audio) {
    // Decoder warm-up (MP3 bit reservoir, resampler) before the encoder's pre-roll.
    auto chain = std::make_unique<DecodeChain>();
    chain->type = GST_STREAM_TYPE_AUDIO;
    chain->seek_ns =
        clip + int64_t(samples_to_ns(std::max<int64_t>(0, audio_grid_->start() - kAudioPreroll),
                                     job_.audio.sample_rate));
    chains_.push_back(std::move(chain));
  }
  for (auto& chain : chains_) {
    if (!build_decode(chain.get(), &why)) {
      *error = MediaError::reason(why);
      return false;
    }
  }

  if (job_.inspect_encode) job_.inspect_encode(GST_BIN(encode_.get()));
  if (gst_element_set_state(encode_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    *error = MediaError::reason("cannot start the encoder");
    return false;
  }
  bool ok = true;
  for (auto& chain : chains_) ok = ok && start_decode(chain.get(), false);
  for (auto& chain : chains_) ok = ok && start_decode(chain.get(), true);
  const bool done = ok && wait(error);
  if (!done && error->message.empty()) {
    std::lock_guard<std::mutex> lock(mutex_);
    *error = error_;
  }
  // Decode threads held at the gate or waiting in a full appsrc must go on to stop.
  stopping_ = true;
  if (job_.gate) job_.gate->wake();
  if (pacer_) pacer_->stop();
  gst_element_set_state(encode_.get(), GST_STATE_NULL);
  for (auto& chain : chains_) gst_element_set_state(chain->pipeline.get(), GST_STATE_NULL);
  return done;
}

}  // namespace

bool run_segment_job(const SegmentJob& job, const SegmentSink& sink, std::string* error,
                     bool* stalled) {
  MediaError failure;
  const bool ok = run_segment_job(job, sink, &failure, stalled);
  if (!ok) *error = failure.message;
  return ok;
}

bool run_segment_job(const SegmentJob& job, const SegmentSink& sink, MediaError* error,
                     bool* stalled) {
  static std::once_flag debug_once;
  std::call_once(debug_once,
                 [] { GST_DEBUG_CATEGORY_INIT(tws_job_debug, "twsjob", 0, "tws segment jobs"); });
  if (job.first == job.last && job.has_video &&
      (job.chunks > 1 || (job.waited && hint_cut_frame(job.plan, job.first, job.hint) > 0)))
    return run_split_segment_job(job, sink, error, stalled);
  // The quick-start segments, and the segment a client waits for, are encoded with other x264
  // settings: a run that goes past them is two pipelines, one after the other.
  auto run = [&](const SegmentJob& part) {
    JobRunner runner(part, sink);
    const bool ok = runner.run(error);
    if (stalled) *stalled = runner.stalled();
    return ok;
  };
  const int quick = quick_start_segments(job.plan);
  int split = 0;  // the first segment of the second pipeline, if any
  if (job.first < quick && job.last >= quick)
    split = quick;
  else if (job.waited && job.last > job.first)
    split = job.first + 1;
  if (split > 0) {
    SegmentJob head = job, rest = job;
    head.last = split - 1;
    rest.first = split;
    rest.waited = false;  // the client waits for the head's first segment
    rest.hint = -1;
    // A head of one segment goes through the dispatch above again: with a seek hint it is made
    // as its draft and the rest.
    if (head.first == head.last) return run_segment_job(head, sink, error, stalled) && run(rest);
    return run(head) && run(rest);
  }
  return run(job);
}

bool check_segment(const SegmentJob& job, const SegmentReport& report, std::string* error) {
  if (report.index < job.first || report.index > job.last) {
    *error = "segment " + std::to_string(report.index) + " is outside the job";
    return false;
  }
  const PlannedSegment& seg = job.plan.segments[report.index];
  const std::string name = "segment " + std::to_string(report.index) + ": ";
  if (job.has_video && !report.starts_with_keyframe) {
    *error = name + "does not start with a keyframe";
    return false;
  }
  if (job.has_video && report.video_frames != seg.end_frame - seg.first_frame) {
    *error = name + std::to_string(report.video_frames) + " video frames, planned " +
             std::to_string(seg.end_frame - seg.first_frame);
    return false;
  }
  if (job.has_audio && report.audio_samples != seg.end_sample - seg.first_sample) {
    *error = name + std::to_string(report.audio_samples) + " audio samples, planned " +
             std::to_string(seg.end_sample - seg.first_sample);
    return false;
  }
  if (report.bytes == 0) {
    *error = name + "empty";
    return false;
  }
  return true;
}

}  // namespace tws
