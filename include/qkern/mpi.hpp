// qkern — SPDX-License-Identifier: Apache-2.0
//
// mpi.hpp: calibration statistics reduced across MPI ranks (optional: include it only in programs
// built with MPI; nothing else in qkern includes it).
//
// Every qkern observer (calib/observers.hpp), StreamingHistogram and ChannelStreamingHistogram
// serializes to a self-checking blob and merges exactly, so a reduction is: serialize on each
// rank -> gather the blobs on the root -> deserialize and merge them in rank order. For the exact
// observers (min/max, histograms) the result is bit-identical to one process that saw all the data,
// whatever the split; moving-average observers merge approximately (see their documentation).
//
//   qkern::HistogramObserver local;
//   for (const Batch& b : my_shard) local.update(b.data, b.size);
//   qkern::HistogramObserver all = qkern::mpi::reduce(local, /*root=*/0, MPI_COMM_WORLD);  // on root
//   qkern::HistogramObserver everywhere = qkern::mpi::allreduce(local, MPI_COMM_WORLD);
//
// Errors: an MPI call that fails throws qkern::DataError naming the call; a blob from another rank
// that does not deserialize throws the observer's DataError. Blobs larger than INT_MAX bytes are
// sent in pieces (MPI counts are int).
#pragma once

#include <mpi.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qkern/core/error.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {
namespace mpi {
namespace detail {

inline void check(int rc, const char* call) {
  if (rc != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    ::qkern::detail::raise(
        DataError(std::string("MPI ") + call + " failed: " + std::string(text, static_cast<std::size_t>(len))));
  }
}

// Sends / receives n bytes in pieces of at most INT_MAX.
inline void send_bytes(const std::uint8_t* p, std::uint64_t n, int dest, int tag, MPI_Comm comm) {
  for (std::uint64_t off = 0; off < n; off += INT_MAX) {
    const int piece = static_cast<int>(n - off < INT_MAX ? n - off : INT_MAX);
    check(MPI_Send(p + off, piece, MPI_BYTE, dest, tag, comm), "MPI_Send");
  }
}

inline void recv_bytes(std::uint8_t* p, std::uint64_t n, int source, int tag, MPI_Comm comm) {
  for (std::uint64_t off = 0; off < n; off += INT_MAX) {
    const int piece = static_cast<int>(n - off < INT_MAX ? n - off : INT_MAX);
    check(MPI_Recv(p + off, piece, MPI_BYTE, source, tag, comm, MPI_STATUS_IGNORE), "MPI_Recv");
  }
}

inline constexpr int kTag = 0x514b;  // "QK"

}  // namespace detail

/// Every rank's blob, on `root`, in rank order (element r is rank r's); other ranks get an empty
/// vector. Collective: every rank of `comm` must call it.
inline std::vector<std::vector<std::uint8_t>> gather_blobs(const std::vector<std::uint8_t>& blob, int root,
                                                           MPI_Comm comm) {
  int rank = 0, size = 0;
  detail::check(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
  detail::check(MPI_Comm_size(comm, &size), "MPI_Comm_size");
  const std::uint64_t mine = blob.size();
  std::vector<std::uint64_t> sizes(rank == root ? static_cast<std::size_t>(size) : 0);
  detail::check(MPI_Gather(&mine, 1, MPI_UINT64_T, sizes.data(), 1, MPI_UINT64_T, root, comm), "MPI_Gather");
  std::vector<std::vector<std::uint8_t>> all;
  if (rank != root) {
    detail::send_bytes(blob.data(), mine, root, detail::kTag, comm);
    return all;
  }
  all.resize(static_cast<std::size_t>(size));
  for (int r = 0; r < size; ++r) {
    if (r == root) {
      all[static_cast<std::size_t>(r)] = blob;
      continue;
    }
    all[static_cast<std::size_t>(r)].resize(sizes[static_cast<std::size_t>(r)]);
    detail::recv_bytes(all[static_cast<std::size_t>(r)].data(), sizes[static_cast<std::size_t>(r)], r, detail::kTag,
                       comm);
  }
  return all;
}

/// Sends root's blob to every rank (returned everywhere). Collective.
inline std::vector<std::uint8_t> broadcast_blob(std::vector<std::uint8_t> blob, int root, MPI_Comm comm) {
  std::uint64_t n = blob.size();
  detail::check(MPI_Bcast(&n, 1, MPI_UINT64_T, root, comm), "MPI_Bcast");
  blob.resize(n);
  for (std::uint64_t off = 0; off < n; off += INT_MAX) {
    const int piece = static_cast<int>(n - off < INT_MAX ? n - off : INT_MAX);
    detail::check(MPI_Bcast(blob.data() + off, piece, MPI_BYTE, root, comm), "MPI_Bcast");
  }
  return blob;
}

/// The merge of every rank's `local` (rank 0's first, then rank 1's merged into it, ...), on `root`;
/// other ranks get their `local` back unchanged. Observer: any type with serialize(),
/// static deserialize(const std::vector<std::uint8_t>&) and merge(const Observer&). Collective.
template <class Observer>
Observer reduce(const Observer& local, int root = 0, MPI_Comm comm = MPI_COMM_WORLD) {
  const std::vector<std::vector<std::uint8_t>> blobs = gather_blobs(local.serialize(), root, comm);
  if (blobs.empty()) return local;
  Observer all = Observer::deserialize(blobs[0]);
  for (std::size_t r = 1; r < blobs.size(); ++r) all.merge(Observer::deserialize(blobs[r]));
  return all;
}

/// reduce() on rank 0, then the result broadcast: every rank returns the same merged observer.
template <class Observer>
Observer allreduce(const Observer& local, MPI_Comm comm = MPI_COMM_WORLD) {
  int rank = 0;
  detail::check(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
  const Observer root_result = reduce(local, 0, comm);
  std::vector<std::uint8_t> blob =
      broadcast_blob(rank == 0 ? root_result.serialize() : std::vector<std::uint8_t>{}, 0, comm);
  return Observer::deserialize(blob);
}

}  // namespace mpi
}  // namespace QKERN_ABI_NS
}  // namespace qkern
