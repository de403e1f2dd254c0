// SPDX-License-Identifier: LGPL-2.1-or-later
// rangesrc's rangefd:// locations: an object handed to the process as an open descriptor, for a
// process that may open nothing by name (tws's sandboxed media workers).
//
//   rangefd://N   N a regular file: read with pread(2), like a local path.
//            N a stream socket: each read is one request to whoever holds the other end,
//            which answers from wherever the object really is (tws serves S3 objects this
//            way, through its own block cache). Little-endian:
//              request   u64 offset | u32 length        (length 0: only the object's size)
//              answer    u32 code | u32 n | u64 size | n bytes
//            code 0: the n bytes at offset (n < length only at the end), or for a size
//            request the object's identity (an ETag, "mtime:<ns>"); otherwise a
//            BackendErrorCode and n bytes of message. One request at a time per socket.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "range_backend.h"

namespace tws {

// A backend for "rangefd://N"; nullptr with *error set when N is not an open file or socket.
std::unique_ptr<RangeBackend> make_fd_backend(const std::string& location, BackendError* error);

// The answering side of the socket protocol: reads one request from `socket` and answers it
// with `read` (the object's reader), `size` and `identity` (the answer to a size request).
// False when the socket closed or broke.
bool answer_range_request(int socket, guint64 size, const std::string& identity,
                          const std::function<gssize(guint64 offset, gsize length, guint8* dest,
                                                     BackendError* error)>& read);

}  // namespace tws
