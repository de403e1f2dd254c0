// SPDX-License-Identifier: LGPL-2.1-or-later
// The one small RAII layer over GLib/GObject/GStreamer references used everywhere in tws.
//
// GRef<T> owns one strong reference. GRef<T>::adopt() takes a reference the caller owns;
// when that reference is floating (gst_element_factory_make, g_object_new of a
// GInitiallyUnowned), it is sunk first, so the GRef holds a real one and a later
// gst_bin_add() takes its own reference instead of stealing ours. GRef<T>::ref() adds one.
// GUnique<T> is std::unique_ptr with the right GLib free function.
#pragma once

#include <glib-object.h>
#include <gst/gst.h>

#include <memory>
#include <utility>

namespace tws {

template <typename T>
struct GRefTraits {
  // Any GObject (GstObject, GstElement, GstBus, GstPad, GObject ...).
  static T* ref(T* p) { return static_cast<T*>(g_object_ref(p)); }
  static void unref(T* p) { g_object_unref(p); }
  static T* sink(T* p) {
    g_object_ref_sink(p);
    return p;
  }
  static bool is_floating(T* p) { return g_object_is_floating(p); }
};

#define TWS_MINI_OBJECT_TRAITS(Type)                                                          \
  template <>                                                                                 \
  struct GRefTraits<Type> {                                                                   \
    static Type* ref(Type* p) { return (Type*)gst_mini_object_ref(GST_MINI_OBJECT_CAST(p)); } \
    static void unref(Type* p) { gst_mini_object_unref(GST_MINI_OBJECT_CAST(p)); }            \
    static Type* sink(Type* p) { return p; }                                                  \
    static bool is_floating(Type*) { return false; }                                          \
  };

TWS_MINI_OBJECT_TRAITS(GstBuffer)
TWS_MINI_OBJECT_TRAITS(GstBufferList)
TWS_MINI_OBJECT_TRAITS(GstCaps)
TWS_MINI_OBJECT_TRAITS(GstSample)
TWS_MINI_OBJECT_TRAITS(GstEvent)
TWS_MINI_OBJECT_TRAITS(GstMessage)
TWS_MINI_OBJECT_TRAITS(GstQuery)
TWS_MINI_OBJECT_TRAITS(GstTagList)
TWS_MINI_OBJECT_TRAITS(GstMemory)
#undef TWS_MINI_OBJECT_TRAITS

template <typename T>
class GRef {
 public:
  GRef() = default;
  GRef(std::nullptr_t) {}
  GRef(const GRef& other) : ptr_(other.ptr_ ? GRefTraits<T>::ref(other.ptr_) : nullptr) {}
  GRef(GRef&& other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
  ~GRef() { reset(); }

  GRef& operator=(const GRef& other) {
    if (this != &other) {
      GRef copy(other);
      std::swap(ptr_, copy.ptr_);
    }
    return *this;
  }
  GRef& operator=(GRef&& other) noexcept {
    if (this != &other) {
      reset();
      ptr_ = std::exchange(other.ptr_, nullptr);
    }
    return *this;
  }

  // Takes over a reference the caller owns (transfer full). A floating reference is sunk.
  static GRef adopt(T* p) {
    GRef r;
    if (p && GRefTraits<T>::is_floating(p)) GRefTraits<T>::sink(p);
    r.ptr_ = p;
    return r;
  }
  // Adds a reference (transfer none).
  static GRef ref(T* p) {
    GRef r;
    if (p) {
      if (GRefTraits<T>::is_floating(p))
        GRefTraits<T>::sink(p);
      else
        GRefTraits<T>::ref(p);
    }
    r.ptr_ = p;
    return r;
  }

  T* get() const { return ptr_; }
  T* operator->() const { return ptr_; }
  explicit operator bool() const { return ptr_ != nullptr; }
  // Gives the reference to the caller (transfer full).
  [[nodiscard]] T* release() { return std::exchange(ptr_, nullptr); }
  void reset() {
    if (T* p = std::exchange(ptr_, nullptr)) GRefTraits<T>::unref(p);
  }
  // For out-parameters of C functions that return a new reference.
  T** out() {
    reset();
    return &ptr_;
  }

 private:
  T* ptr_ = nullptr;
};

template <typename T>
GRef<T> adopt_ref(T* p) {
  return GRef<T>::adopt(p);
}
template <typename T>
GRef<T> add_ref(T* p) {
  return GRef<T>::ref(p);
}

// std::unique_ptr with GLib free functions, for things that are owned but not refcounted.
template <typename T>
struct GFreeDeleter;
#define TWS_DELETER(Type, fn)        \
  template <>                        \
  struct GFreeDeleter<Type> {        \
    void operator()(Type* p) const { \
      if (p) fn(p);                  \
    }                                \
  };
TWS_DELETER(GError, g_error_free)
TWS_DELETER(gchar, g_free)
TWS_DELETER(gchar*, g_strfreev)
TWS_DELETER(GstStructure, gst_structure_free)
TWS_DELETER(GKeyFile, g_key_file_unref)
TWS_DELETER(GBytes, g_bytes_unref)
TWS_DELETER(GChecksum, g_checksum_free)
TWS_DELETER(GHmac, g_hmac_unref)
TWS_DELETER(GMainLoop, g_main_loop_unref)
TWS_DELETER(GMainContext, g_main_context_unref)
TWS_DELETER(GSource, g_source_unref)
TWS_DELETER(GDir, g_dir_close)
TWS_DELETER(GMappedFile, g_mapped_file_unref)
TWS_DELETER(GstIterator, gst_iterator_free)
TWS_DELETER(GHashTable, g_hash_table_unref)
TWS_DELETER(GUri, g_uri_unref)
#undef TWS_DELETER

template <typename T>
using GUnique = std::unique_ptr<T, GFreeDeleter<T>>;

// Mapped GstBuffer for the lifetime of the scope.
class MappedBuffer {
 public:
  MappedBuffer(GstBuffer* buffer, GstMapFlags flags) : buffer_(buffer) {
    ok_ = gst_buffer_map(buffer_, &info_, flags);
  }
  ~MappedBuffer() {
    if (ok_) gst_buffer_unmap(buffer_, &info_);
  }
  MappedBuffer(const MappedBuffer&) = delete;
  MappedBuffer& operator=(const MappedBuffer&) = delete;

  explicit operator bool() const { return ok_; }
  const guint8* data() const { return info_.data; }
  guint8* data() { return info_.data; }
  gsize size() const { return info_.size; }

 private:
  GstBuffer* buffer_;
  GstMapInfo info_{};
  bool ok_ = false;
};

}  // namespace tws
