// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * SECTION:element-rangesrc
 * @title: rangesrc
 *
 * Reads an object by byte ranges: a local file (path or `file://` URI), an S3 object
 * (`s3://BUCKET/KEY`) or an HTTP(S) resource (`http://`, `https://`). rangesrc operates in
 * pull mode, so demuxers such as qtdemux, matroskademux and avidemux can read any offset,
 * and also in push mode.
 *
 * An HTTP(S) resource is opened with one HEAD (size, ETag, `Accept-Ranges`). A server that
 * answers `Accept-Ranges: bytes` is read by ranged GETs, as S3 is. A server without Range
 * support (no `Accept-Ranges: bytes`, or a 200 with the whole object to a ranged GET, as
 * Python's http.server does) is read as souphttpsrc reads it: the element is not seekable,
 * so demuxers run in push mode and read the object once, from one streaming GET whose body
 * is read as it arrives. qtdemux then keeps an MP4 whose moov comes after its mdat in
 * memory until the moov arrives (it cannot seek to it); seeking is refused. Reads that jump
 * ahead by up to 4 MiB skip the bytes between on the same GET; only a read behind it (not
 * served by the block cache) or further ahead costs a new GET. #GstRangeSrc:user-agent,
 * #GstRangeSrc:timeout and #GstRangeSrc:retries apply to every HTTP(S) and S3 request.
 *
 * Every rangesrc of the process reads through one shared block cache: the object is cut
 * into #GstRangeSrc:block-size blocks kept in an LRU of #GstRangeSrc:cache-size bytes, so
 * a demuxer's many small reads cost few backend requests. When reads are sequential, the
 * next #GstRangeSrc:readahead blocks are fetched in the same request as a missing block.
 * Blocks are keyed by location and identity (mtime for files, ETag for S3/HTTP), so a
 * replaced object is never served from stale blocks. Local files are read straight (one
 * pread per read) unless #GstRangeSrc:cache-local-files is set: the operating system's page
 * cache already keeps them, and copies in the block cache would only cost memory.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 rangesrc location=/data/movie.mp4 ! qtdemux ! h264parse ! avdec_h264 ! \
 *     autovideosink
 * ]| Plays the video of an MP4 file, qtdemux pulling ranges from rangesrc.
 * |[
 * gst-launch-1.0 rangesrc location=file:///data/movie.mkv block-size=1048576 readahead=2 \
 *     cache-local-files=true ! decodebin ! fakesink
 * ]| Decodes a Matroska file read through the block cache in 1 MiB blocks, two blocks ahead.
 * |[
 * gst-launch-1.0 rangesrc location=http://127.0.0.1:8000/clip.avi timeout=10 retries=0 ! \
 *     decodebin ! fakesink
 * ]| Decodes an AVI file from an HTTP server (`python3 -m http.server` in its folder), giving
 * up on a request after 10 s without data and not trying it again.
 *
 * Errors are GST_RESOURCE_ERROR: NOT_FOUND for a missing file or object, OPEN_READ or READ
 * otherwise. Where an S3 or HTTP server answered, the error message's details carry its status
 * as souphttpsrc's do: "http-status-code" (guint), read with gst_message_parse_error_details().
 */
#include "gstrangesrc.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>

#include "block_cache.h"
#include "common/gref.h"
#include "elements.h"
#include "range_backend.h"

GST_DEBUG_CATEGORY_STATIC(gst_range_src_debug);
#define GST_CAT_DEFAULT gst_range_src_debug

#define DEFAULT_LOCATION nullptr
#define DEFAULT_BLOCK_SIZE (256 * 1024)
#define DEFAULT_CACHE_SIZE (G_GUINT64_CONSTANT(64) * 1024 * 1024)
#define DEFAULT_READAHEAD 4
#define DEFAULT_CACHE_LOCAL_FILES FALSE
#define MIN_BLOCK_SIZE 4096
#define MAX_BLOCK_SIZE (64 * 1024 * 1024)
#define MAX_READAHEAD 64
#define DEFAULT_USER_AGENT "tws-rangesrc/" VERSION
#define DEFAULT_TIMEOUT 30
#define MAX_TIMEOUT 3600
#define DEFAULT_RETRIES 2
#define MAX_RETRIES 10
// basesrc starts and stops the element once to answer the scheduling query, then starts it
// again: an object opened that long ago, and not read, is used again (one HEAD, not two).
#define PROBE_REUSE_US (5 * G_USEC_PER_SEC)

enum {
  PROP_0,
  PROP_LOCATION,
  PROP_BLOCK_SIZE,
  PROP_CACHE_SIZE,
  PROP_READAHEAD,
  PROP_CACHE_LOCAL_FILES,
  PROP_ENDPOINT,
  PROP_REGION,
  PROP_ACCESS_KEY_ID,
  PROP_SECRET_ACCESS_KEY,
  PROP_USER_AGENT,
  PROP_TIMEOUT,
  PROP_RETRIES,
};

static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

namespace {

struct Settings {
  std::string location;  // as set: a path or a URI
  guint block_size = DEFAULT_BLOCK_SIZE;
  guint readahead = DEFAULT_READAHEAD;
  bool cache_local_files = DEFAULT_CACHE_LOCAL_FILES;
  // Endpoint, region, keys for s3:// locations; user agent, timeout, retries for s3:// and
  // http(s):// ones.
  tws::RangeBackendOptions remote{.endpoint = {},
                                  .region = {},
                                  .access_key_id = {},
                                  .secret_access_key = {},
                                  .user_agent = DEFAULT_USER_AGENT,
                                  .timeout_s = DEFAULT_TIMEOUT,
                                  .retries = DEFAULT_RETRIES};
  // cache-size is not here: it is the shared cache's own capacity.
};

}  // namespace

struct GstRangeSrcPrivate {
  // User settings; read at start(), changed by properties (location only below PAUSED).
  std::mutex settings_lock;
  Settings settings;

  // Streaming state: Stopped -> Opening (start(): the backend opens the object; unlock() can
  // cancel a slow open) -> Open (the object's reader, until stop()) -> Stopped. A failed or
  // cancelled open goes back to Stopped. state_lock guards it against unlock() from other
  // threads; the streaming thread takes what it needs under it.
  struct Opening {
    std::shared_ptr<tws::RangeBackend> backend;
  };
  struct Open {
    std::shared_ptr<tws::RangeBackend> backend;
    std::shared_ptr<tws::BlockCache::Reader> reader;  // reads through backend: dropped first
    guint64 size = 0;
    bool seekable = true;  // the backend serves ranges (is_seekable)
    bool read = false;     // fill() ran since start()
  };
  std::mutex state_lock;
  std::variant<std::monostate, Opening, Open> state;

  // An object stop() closed unread (basesrc's start/stop probe), for the next start() with
  // the same settings within PROBE_REUSE_US. Under state_lock.
  struct Probed {
    Open open;
    std::string location;
    tws::RangeBackendOptions remote;
    gint64 stopped_us = 0;  // g_get_monotonic_time()
  };
  std::optional<Probed> probed;

  tws::RangeBackend* backend() {
    if (auto* o = std::get_if<Opening>(&state)) return o->backend.get();
    if (auto* o = std::get_if<Open>(&state)) return o->backend.get();
    return nullptr;
  }
  Open* open() { return std::get_if<Open>(&state); }
  // Between unlock() and unlock_stop(): reads return FLUSHING.
  std::atomic<bool> flushing{false};
};

struct _GstRangeSrc {
  GstBaseSrc parent;
  GstRangeSrcPrivate* priv;
};

static void gst_range_src_uri_handler_init(gpointer g_iface, gpointer iface_data);

#define gst_range_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE(GstRangeSrc, gst_range_src, GST_TYPE_BASE_SRC,
                        G_IMPLEMENT_INTERFACE(GST_TYPE_URI_HANDLER, gst_range_src_uri_handler_init);
                        GST_DEBUG_CATEGORY_INIT(gst_range_src_debug, "rangesrc", 0,
                                                "random-access source with block cache"));
GST_ELEMENT_REGISTER_DEFINE(rangesrc, "rangesrc", GST_RANK_NONE, GST_TYPE_RANGE_SRC);

static void gst_range_src_finalize(GObject* object);
static void gst_range_src_set_property(GObject* object, guint prop_id, const GValue* value,
                                       GParamSpec* pspec);
static void gst_range_src_get_property(GObject* object, guint prop_id, GValue* value,
                                       GParamSpec* pspec);
static gboolean gst_range_src_start(GstBaseSrc* bsrc);
static gboolean gst_range_src_stop(GstBaseSrc* bsrc);
static gboolean gst_range_src_get_size(GstBaseSrc* bsrc, guint64* size);
static gboolean gst_range_src_is_seekable(GstBaseSrc* bsrc);
static gboolean gst_range_src_do_seek(GstBaseSrc* bsrc, GstSegment* segment);
static gboolean gst_range_src_unlock(GstBaseSrc* bsrc);
static gboolean gst_range_src_unlock_stop(GstBaseSrc* bsrc);
static GstFlowReturn gst_range_src_fill(GstBaseSrc* bsrc, guint64 offset, guint length,
                                        GstBuffer* buf);

static void gst_range_src_class_init(GstRangeSrcClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseSrcClass* basesrc_class = GST_BASE_SRC_CLASS(klass);

  gobject_class->finalize = gst_range_src_finalize;
  gobject_class->set_property = gst_range_src_set_property;
  gobject_class->get_property = gst_range_src_get_property;

  g_object_class_install_property(
      gobject_class, PROP_LOCATION,
      g_param_spec_string("location", "Location",
                          "Object to read: a local path, a file:// URI, s3://BUCKET/KEY (key "
                          "percent-encoded) or an http(s):// URL (unset: the element cannot start)",
                          DEFAULT_LOCATION,
                          static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                   GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property(
      gobject_class, PROP_BLOCK_SIZE,
      g_param_spec_uint("block-size", "Block size",
                        "Size of the cache blocks, in bytes (4 KiB to 64 MiB): the smallest "
                        "request to S3 or HTTP(S); unused for local files read straight",
                        MIN_BLOCK_SIZE, MAX_BLOCK_SIZE, DEFAULT_BLOCK_SIZE,
                        static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                 GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property(
      gobject_class, PROP_CACHE_SIZE,
      g_param_spec_uint64("cache-size", "Cache size",
                          "Capacity of the block cache shared by every rangesrc of the process, "
                          "in bytes; setting it resizes that cache (0 = cache nothing)",
                          0, G_MAXUINT64, DEFAULT_CACHE_SIZE,
                          static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property(
      gobject_class, PROP_CACHE_LOCAL_FILES,
      g_param_spec_boolean("cache-local-files", "Cache local files",
                           "Read local files through the block cache too; by default they are "
                           "read straight, one pread per read (the page cache keeps them)",
                           DEFAULT_CACHE_LOCAL_FILES,
                           static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                    GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property(
      gobject_class, PROP_READAHEAD,
      g_param_spec_uint("readahead", "Readahead",
                        "When reads through the block cache are sequential, blocks fetched "
                        "ahead in the same request as a missing block (0 = none)",
                        0, MAX_READAHEAD, DEFAULT_READAHEAD,
                        static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                 GST_PARAM_MUTABLE_READY)));

  const auto ready_only = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                   GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(
      gobject_class, PROP_ENDPOINT,
      g_param_spec_string("endpoint", "S3 endpoint",
                          "For s3:// locations: the store's URL (http://127.0.0.1:9000); unset: "
                          "the location's endpoint= query, AWS_ENDPOINT_URL, or AWS for the region",
                          nullptr, ready_only));
  g_object_class_install_property(
      gobject_class, PROP_REGION,
      g_param_spec_string("region", "S3 region",
                          "For s3:// locations: the signing region; unset: the location's region= "
                          "query, AWS_REGION, or us-east-1",
                          nullptr, ready_only));
  g_object_class_install_property(
      gobject_class, PROP_ACCESS_KEY_ID,
      g_param_spec_string("access-key-id", "S3 access key ID",
                          "For s3:// locations: the access key ID; unset: the keys tws registered "
                          "for the endpoint and bucket, or AWS_ACCESS_KEY_ID",
                          nullptr, ready_only));
  g_object_class_install_property(
      gobject_class, PROP_SECRET_ACCESS_KEY,
      g_param_spec_string("secret-access-key", "S3 secret access key",
                          "For s3:// locations: the secret access key (write-only; used with "
                          "access-key-id)",
                          nullptr,
                          static_cast<GParamFlags>(G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS |
                                                   GST_PARAM_MUTABLE_READY)));

  g_object_class_install_property(
      gobject_class, PROP_USER_AGENT,
      g_param_spec_string("user-agent", "User-Agent",
                          "User-Agent header of HTTP(S) and S3 requests (empty or NULL: none)",
                          DEFAULT_USER_AGENT, ready_only));
  g_object_class_install_property(
      gobject_class, PROP_TIMEOUT,
      g_param_spec_uint("timeout", "Timeout",
                        "HTTP(S) and S3 requests: seconds to connect, and to wait for each read "
                        "of the answer, before the try fails (0 = wait forever)",
                        0, MAX_TIMEOUT, DEFAULT_TIMEOUT, ready_only));
  g_object_class_install_property(
      gobject_class, PROP_RETRIES,
      g_param_spec_uint("retries", "Retries",
                        "HTTP(S) and S3 requests: tries after the first on connection errors, "
                        "timeouts and 5xx / 429 answers, with backoff from 200 ms "
                        "(0 = try once)",
                        0, MAX_RETRIES, DEFAULT_RETRIES, ready_only));

  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "Range source", "Source/File",
      "Reads a file, an S3 object or an HTTP(S) URL by byte ranges through a shared block cache",
      "tws authors");

  basesrc_class->start = GST_DEBUG_FUNCPTR(gst_range_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR(gst_range_src_stop);
  basesrc_class->get_size = GST_DEBUG_FUNCPTR(gst_range_src_get_size);
  basesrc_class->is_seekable = GST_DEBUG_FUNCPTR(gst_range_src_is_seekable);
  basesrc_class->do_seek = GST_DEBUG_FUNCPTR(gst_range_src_do_seek);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR(gst_range_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR(gst_range_src_unlock_stop);
  basesrc_class->fill = GST_DEBUG_FUNCPTR(gst_range_src_fill);
}

static void gst_range_src_init(GstRangeSrc* self) {
  self->priv = new GstRangeSrcPrivate();
  gst_base_src_set_format(GST_BASE_SRC(self), GST_FORMAT_BYTES);
}

static void gst_range_src_finalize(GObject* object) {
  GstRangeSrc* self = GST_RANGE_SRC(object);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

// Location changes only while no session runs (NULL or READY), as filesrc.
static gboolean gst_range_src_set_location(GstRangeSrc* self, const gchar* location,
                                           GError** error) {
  GST_OBJECT_LOCK(self);
  GstState state = GST_STATE(self);
  GST_OBJECT_UNLOCK(self);
  if (state != GST_STATE_READY && state != GST_STATE_NULL) {
    GST_WARNING_OBJECT(self, "Changing the location in state %s is not supported",
                       gst_element_state_get_name(state));
    g_set_error(error, GST_URI_ERROR, GST_URI_ERROR_BAD_STATE,
                "Changing the location of rangesrc while it is running is not supported");
    return FALSE;
  }
  std::lock_guard lock(self->priv->settings_lock);
  self->priv->settings.location = location ? location : "";
  GST_INFO_OBJECT(self, "location: %s", location ? location : "(none)");
  return TRUE;
}

static void gst_range_src_set_property(GObject* object, guint prop_id, const GValue* value,
                                       GParamSpec* pspec) {
  GstRangeSrc* self = GST_RANGE_SRC(object);
  GstRangeSrcPrivate* priv = self->priv;
  switch (prop_id) {
    case PROP_LOCATION:
      gst_range_src_set_location(self, g_value_get_string(value), nullptr);
      break;
    case PROP_BLOCK_SIZE: {
      std::lock_guard lock(priv->settings_lock);
      priv->settings.block_size = g_value_get_uint(value);
      break;
    }
    case PROP_CACHE_SIZE:
      tws::BlockCache::shared().set_capacity(g_value_get_uint64(value));
      break;
    case PROP_READAHEAD: {
      std::lock_guard lock(priv->settings_lock);
      priv->settings.readahead = g_value_get_uint(value);
      break;
    }
    case PROP_CACHE_LOCAL_FILES: {
      std::lock_guard lock(priv->settings_lock);
      priv->settings.cache_local_files = g_value_get_boolean(value);
      break;
    }
    case PROP_ENDPOINT:
    case PROP_REGION:
    case PROP_ACCESS_KEY_ID:
    case PROP_SECRET_ACCESS_KEY: {
      const gchar* v = g_value_get_string(value);
      std::lock_guard lock(priv->settings_lock);
      tws::RangeBackendOptions& r = priv->settings.remote;
      std::string& slot = prop_id == PROP_ENDPOINT        ? r.endpoint
                          : prop_id == PROP_REGION        ? r.region
                          : prop_id == PROP_ACCESS_KEY_ID ? r.access_key_id
                                                          : r.secret_access_key;
      slot = v ? v : "";
      break;
    }
    case PROP_USER_AGENT: {
      const gchar* v = g_value_get_string(value);
      std::lock_guard lock(priv->settings_lock);
      priv->settings.remote.user_agent = v ? v : "";
      break;
    }
    case PROP_TIMEOUT: {
      std::lock_guard lock(priv->settings_lock);
      priv->settings.remote.timeout_s = g_value_get_uint(value);
      break;
    }
    case PROP_RETRIES: {
      std::lock_guard lock(priv->settings_lock);
      priv->settings.remote.retries = g_value_get_uint(value);
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_range_src_get_property(GObject* object, guint prop_id, GValue* value,
                                       GParamSpec* pspec) {
  GstRangeSrc* self = GST_RANGE_SRC(object);
  GstRangeSrcPrivate* priv = self->priv;
  switch (prop_id) {
    case PROP_LOCATION: {
      std::lock_guard lock(priv->settings_lock);
      g_value_set_string(
          value, priv->settings.location.empty() ? nullptr : priv->settings.location.c_str());
      break;
    }
    case PROP_BLOCK_SIZE: {
      std::lock_guard lock(priv->settings_lock);
      g_value_set_uint(value, priv->settings.block_size);
      break;
    }
    case PROP_CACHE_SIZE:
      g_value_set_uint64(value, tws::BlockCache::shared().capacity());
      break;
    case PROP_READAHEAD: {
      std::lock_guard lock(priv->settings_lock);
      g_value_set_uint(value, priv->settings.readahead);
      break;
    }
    case PROP_CACHE_LOCAL_FILES: {
      std::lock_guard lock(priv->settings_lock);
      g_value_set_boolean(value, priv->settings.cache_local_files);
      break;
    }
    case PROP_ENDPOINT:
    case PROP_REGION:
    case PROP_ACCESS_KEY_ID: {
      std::lock_guard lock(priv->settings_lock);
      const tws::RangeBackendOptions& r = priv->settings.remote;
      const std::string& v = prop_id == PROP_ENDPOINT ? r.endpoint
                             : prop_id == PROP_REGION ? r.region
                                                      : r.access_key_id;
      g_value_set_string(value, v.empty() ? nullptr : v.c_str());
      break;
    }
    case PROP_USER_AGENT: {
      std::lock_guard lock(priv->settings_lock);
      const std::string& v = priv->settings.remote.user_agent;
      g_value_set_string(value, v.empty() ? nullptr : v.c_str());
      break;
    }
    case PROP_TIMEOUT: {
      std::lock_guard lock(priv->settings_lock);
      g_value_set_uint(value, priv->settings.remote.timeout_s);
      break;
    }
    case PROP_RETRIES: {
      std::lock_guard lock(priv->settings_lock);
      g_value_set_uint(value, priv->settings.remote.retries);
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

// Posts the element error for a failed open (start) or read (fill). Where an S3 or HTTP server
// answered, the message's details carry its status as souphttpsrc's do:
// "http-status-code" (guint), read with gst_message_parse_error_details().
static void gst_range_src_post_error(GstRangeSrc* self, const tws::BackendError& err,
                                     bool opening) {
  GstResourceError code = opening ? GST_RESOURCE_ERROR_OPEN_READ : GST_RESOURCE_ERROR_READ;
  switch (err.code) {
    case tws::BackendErrorCode::kNotFound:
      code = GST_RESOURCE_ERROR_NOT_FOUND;
      break;
    case tws::BackendErrorCode::kUnsupported:
      code = GST_RESOURCE_ERROR_SETTINGS;
      break;
    case tws::BackendErrorCode::kPermissionDenied:
    case tws::BackendErrorCode::kIo:
    case tws::BackendErrorCode::kNone:
    case tws::BackendErrorCode::kCancelled:
      break;
  }
  GstStructure* details = err.http_status ? gst_structure_new("details", "http-status-code",
                                                              G_TYPE_UINT, err.http_status, nullptr)
                                          : nullptr;
  gst_element_message_full_with_details(
      GST_ELEMENT(self), GST_MESSAGE_ERROR, GST_RESOURCE_ERROR, code, g_strdup(err.message.c_str()),
      g_strdup(err.detail.c_str()), __FILE__, GST_FUNCTION, __LINE__, details);
}

// The object basesrc's start/stop probe opened, when `settings` are still those it was
// opened with and it was closed moments ago; else nothing (and the kept one is dropped).
static std::optional<GstRangeSrcPrivate::Open> gst_range_src_take_probed(GstRangeSrcPrivate* priv,
                                                                         const Settings& settings) {
  std::optional<GstRangeSrcPrivate::Probed> probed;
  {
    std::lock_guard lock(priv->state_lock);
    probed.swap(priv->probed);
  }
  if (!probed || probed->location != settings.location || probed->remote != settings.remote ||
      g_get_monotonic_time() - probed->stopped_us > PROBE_REUSE_US)
    return std::nullopt;
  return std::move(probed->open);
}

// Makes the backend and opens the object (HEAD for S3/HTTP); posts the error on failure.
static std::optional<GstRangeSrcPrivate::Open> gst_range_src_open(GstRangeSrc* self,
                                                                  const Settings& settings) {
  GstRangeSrcPrivate* priv = self->priv;
  tws::BackendError err;
  std::shared_ptr<tws::RangeBackend> backend =
      tws::make_range_backend(settings.location, &err, settings.remote);
  if (!backend) {
    gst_range_src_post_error(self, err, true);
    return std::nullopt;
  }
  tws::ObjectInfo info;
  {
    std::lock_guard lock(priv->state_lock);
    priv->state = GstRangeSrcPrivate::Opening{backend};  // so unlock() can cancel a slow open
  }
  if (!backend->open(&info, &err)) {
    {
      std::lock_guard lock(priv->state_lock);
      priv->state = std::monostate{};
    }
    if (err.code != tws::BackendErrorCode::kCancelled) gst_range_src_post_error(self, err, true);
    return std::nullopt;
  }
  GST_INFO_OBJECT(self, "opened %s: %" G_GUINT64_FORMAT " bytes, identity %s, %s",
                  settings.location.c_str(), info.size, info.identity.c_str(),
                  backend->seekable() ? "seekable" : "sequential only (no ranges)");

  std::string key = tws::BlockCache::make_object_key(backend->location(), info.identity, info.size);
  tws::RangeBackend* raw_backend = backend.get();
  auto reader = std::make_shared<tws::BlockCache::Reader>(
      tws::BlockCache::shared(), std::move(key), info.size, settings.block_size, settings.readahead,
      [raw_backend](guint64 offset, gsize length, guint8* dest, tws::BackendError* error) {
        return raw_backend->read(offset, length, dest, error);
      });
  reader->set_direct(raw_backend->local() && !settings.cache_local_files);
  return GstRangeSrcPrivate::Open{backend, std::move(reader), info.size, backend->seekable()};
}

static gboolean gst_range_src_start(GstBaseSrc* bsrc) {
  GstRangeSrc* self = GST_RANGE_SRC(bsrc);
  GstRangeSrcPrivate* priv = self->priv;

  Settings settings;
  {
    std::lock_guard lock(priv->settings_lock);
    settings = priv->settings;
  }
  if (settings.location.empty()) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No location set for reading"), (nullptr));
    return FALSE;
  }

  std::optional<GstRangeSrcPrivate::Open> open = gst_range_src_take_probed(priv, settings);
  if (open)
    GST_DEBUG_OBJECT(self, "using the object opened for the scheduling query again");
  else
    open = gst_range_src_open(self, settings);
  if (!open) return FALSE;

  std::lock_guard lock(priv->state_lock);
  if (priv->flushing) {
    open->backend->cancel();
    open->reader->set_cancelled(true);
  }
  priv->state = std::move(*open);
  return TRUE;
}

static gboolean gst_range_src_stop(GstBaseSrc* bsrc) {
  GstRangeSrc* self = GST_RANGE_SRC(bsrc);
  GstRangeSrcPrivate* priv = self->priv;
  std::shared_ptr<tws::BlockCache::Reader> reader;
  std::shared_ptr<tws::RangeBackend> backend;
  std::optional<GstRangeSrcPrivate::Probed> dropped;  // released outside the lock
  {
    std::lock_guard lock(priv->settings_lock);
    std::lock_guard state(priv->state_lock);
    dropped.swap(priv->probed);
    if (auto* open = priv->open()) {
      if (!open->read && !priv->flushing) {
        priv->probed = GstRangeSrcPrivate::Probed{std::move(*open), priv->settings.location,
                                                  priv->settings.remote, g_get_monotonic_time()};
      } else {
        reader = std::move(open->reader);
        backend = std::move(open->backend);
      }
    }
    priv->state = std::monostate{};
  }
  tws::BlockCacheStats stats = tws::BlockCache::shared().stats();
  GST_INFO_OBJECT(self,
                  "stopped; process-wide cache: %" G_GUINT64_FORMAT
                  " backend requests, %" G_GUINT64_FORMAT " bytes, %" G_GUINT64_FORMAT
                  " hits, %" G_GUINT64_FORMAT " misses",
                  stats.backend_requests, stats.backend_bytes, stats.hits, stats.misses);
  // The reader's fetch function points into the backend: drop the reader first.
  reader.reset();
  backend.reset();
  return TRUE;
}

static gboolean gst_range_src_get_size(GstBaseSrc* bsrc, guint64* size) {
  GstRangeSrc* self = GST_RANGE_SRC(bsrc);
  std::lock_guard lock(self->priv->state_lock);
  const GstRangeSrcPrivate::Open* open = self->priv->open();
  if (!open) return FALSE;
  *size = open->size;
  return TRUE;
}

// Not seekable when the store serves no ranges (an HTTP server without Range support):
// basesrc then refuses pull mode and seeks, and demuxers read the object once, in order.
static gboolean gst_range_src_is_seekable(GstBaseSrc* bsrc) {
  GstRangeSrc* self = GST_RANGE_SRC(bsrc);
  std::lock_guard lock(self->priv->state_lock);
  const GstRangeSrcPrivate::Open* open = self->priv->open();
  return open ? open->seekable : TRUE;
}

static gboolean gst_range_src_do_seek(GstBaseSrc* bsrc, GstSegment* segment) {
  // Reads carry their offsets (create/fill); the block cache tells sequential reading from
  // random access by itself, so a seek needs no state of its own here.
  GST_DEBUG_OBJECT(bsrc, "seek to %" G_GUINT64_FORMAT, segment->start);
  return GST_BASE_SRC_CLASS(parent_class)->do_seek(bsrc, segment);
}

static gboolean gst_range_src_unlock(GstBaseSrc* bsrc) {
  GstRangeSrc* self = GST_RANGE_SRC(bsrc);
  GstRangeSrcPrivate* priv = self->priv;
  GST_DEBUG_OBJECT(self, "unlock");
  std::lock_guard lock(priv->state_lock);
  priv->flushing = true;
  if (tws::RangeBackend* backend = priv->backend()) backend->cancel();
  if (auto* open = priv->open()) open->reader->set_cancelled(true);
  return TRUE;
}

static gboolean gst_range_src_unlock_stop(GstBaseSrc* bsrc) {
  GstRangeSrc* self = GST_RANGE_SRC(bsrc);
  GstRangeSrcPrivate* priv = self->priv;
  GST_DEBUG_OBJECT(self, "unlock stop");
  std::lock_guard lock(priv->state_lock);
  priv->flushing = false;
  if (tws::RangeBackend* backend = priv->backend()) backend->reset_cancel();
  if (auto* open = priv->open()) open->reader->set_cancelled(false);
  return TRUE;
}

static GstFlowReturn gst_range_src_fill(GstBaseSrc* bsrc, guint64 offset, guint length,
                                        GstBuffer* buf) {
  GstRangeSrc* self = GST_RANGE_SRC(bsrc);
  GstRangeSrcPrivate* priv = self->priv;

  std::shared_ptr<tws::BlockCache::Reader> reader;
  {
    std::lock_guard lock(priv->state_lock);
    if (auto* open = priv->open()) {
      reader = open->reader;
      open->read = true;
    }
  }
  if (!reader) return GST_FLOW_FLUSHING;
  if (priv->flushing) return GST_FLOW_FLUSHING;
  if (offset >= reader->object_size()) {
    GST_DEBUG_OBJECT(self, "EOS: offset %" G_GUINT64_FORMAT " >= size %" G_GUINT64_FORMAT, offset,
                     reader->object_size());
    return GST_FLOW_EOS;
  }

  tws::BackendError err;
  gssize n;
  {
    tws::MappedBuffer map(buf, GST_MAP_WRITE);
    if (!map) {
      GST_ELEMENT_ERROR(self, RESOURCE, READ, ("Could not map buffer"), (nullptr));
      return GST_FLOW_ERROR;
    }
    gsize want = MIN(static_cast<gsize>(length), map.size());
    n = reader->read(offset, want, map.data(), &err);
  }
  if (n < 0) {
    if (err.code == tws::BackendErrorCode::kCancelled) {
      GST_DEBUG_OBJECT(self, "read cancelled");
      return GST_FLOW_FLUSHING;
    }
    gst_range_src_post_error(self, err, false);
    return GST_FLOW_ERROR;
  }
  if (n == 0) return GST_FLOW_EOS;

  GST_LOG_OBJECT(self, "read %" G_GSSIZE_FORMAT " bytes at %" G_GUINT64_FORMAT, n, offset);
  gst_buffer_set_size(buf, n);
  GST_BUFFER_OFFSET(buf) = offset;
  GST_BUFFER_OFFSET_END(buf) = offset + static_cast<guint64>(n);
  return GST_FLOW_OK;
}

// GstURIHandler: "file", "s3", "http", "https" and "rangefd" URIs (rank NONE: never chosen over
// souphttpsrc by uridecodebin, unless an application raises it, as tws's media
// workers do for their rangefd:// sources; not "fd": uridecodebin buffers fd:// as a stream).

static GstURIType gst_range_src_uri_get_type(GType) { return GST_URI_SRC; }

static const gchar* const* gst_range_src_uri_get_protocols(GType) {
  static const gchar* protocols[] = {"file", "s3", "http", "https", "rangefd", nullptr};
  return protocols;
}

static gchar* gst_range_src_uri_get_uri(GstURIHandler* handler) {
  GstRangeSrc* self = GST_RANGE_SRC(handler);
  std::string location;
  {
    std::lock_guard lock(self->priv->settings_lock);
    location = self->priv->settings.location;
  }
  if (location.empty()) return nullptr;
  if (gst_uri_is_valid(location.c_str()) && location.find("://") != std::string::npos)
    return g_strdup(location.c_str());
  // A path: make it absolute first, as file URIs are.
  tws::GUnique<gchar> absolute(g_canonicalize_filename(location.c_str(), nullptr));
  return g_filename_to_uri(absolute.get(), nullptr, nullptr);
}

static gboolean gst_range_src_uri_set_uri(GstURIHandler* handler, const gchar* uri,
                                          GError** error) {
  GstRangeSrc* self = GST_RANGE_SRC(handler);
  tws::GUnique<gchar> scheme(gst_uri_get_protocol(uri));
  if (!scheme || !tws::range_backend_supports_scheme(scheme.get())) {
    g_set_error(error, GST_URI_ERROR, GST_URI_ERROR_UNSUPPORTED_PROTOCOL,
                "rangesrc does not read URIs like %s", uri);
    return FALSE;
  }
  if (g_ascii_strcasecmp(scheme.get(), "file") == 0) {
    tws::GUnique<gchar> path(g_filename_from_uri(uri, nullptr, nullptr));
    if (!path) {
      g_set_error(error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI, "Invalid file URI: %s", uri);
      return FALSE;
    }
  }
  return gst_range_src_set_location(self, uri, error);
}

static void gst_range_src_uri_handler_init(gpointer g_iface, gpointer) {
  GstURIHandlerInterface* iface = static_cast<GstURIHandlerInterface*>(g_iface);
  iface->get_type = gst_range_src_uri_get_type;
  iface->get_protocols = gst_range_src_uri_get_protocols;
  iface->get_uri = gst_range_src_uri_get_uri;
  iface->set_uri = gst_range_src_uri_set_uri;
}
