// qkern tool tests — SPDX-License-Identifier: Apache-2.0
//
// mpi_reduce_test.cpp (run under mpiexec with several ranks): qkern/mpi.hpp's reduce / allreduce of
// every exact observer type equals, byte for byte, one observer that saw all the data; each rank
// observes a different, uneven slice (rank 0's may be empty). Exit code 0 on success.
#include <cstdio>
#include <random>

#include "qkern/calib/observers.hpp"
#include "qkern/mpi.hpp"

namespace {

int failures = 0;

void expect(bool ok, const char* what, int rank) {
  if (!ok) {
    std::fprintf(stderr, "rank %d: %s differs from one process\n", rank, what);
    ++failures;
  }
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const std::size_t channels = 5, inner = 7, rows = 61;
  std::vector<float> x(rows * channels * inner);
  std::mt19937 rng(11);
  std::normal_distribution<float> g(0.3f, 1.0f);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = g(rng) * float(1 + (i / inner) % channels);
  x[17] = 1e4f;  // late growth for whichever rank holds it
  // rank r takes rows [r^2 * rows / size^2, (r+1)^2 * rows / size^2): uneven, rank 0's may be tiny
  auto first_row = [&](int r) { return static_cast<std::size_t>(r) * r * rows / (std::size_t(size) * size); };
  const std::size_t r0 = first_row(rank), r1 = rank + 1 == size ? rows : first_row(rank + 1);
  const float* mine = x.data() + r0 * channels * inner;
  const std::size_t n = (r1 - r0) * channels * inner;
  const qkern::ChannelLayout layout{r1 - r0, channels, inner}, all_layout{rows, channels, inner};
  try {
    qkern::MinMaxObserver mm, mm_all;
    qkern::HistogramObserver h(512), h_all(512);
    qkern::HistogramObserver a(512, qkern::HistogramValues::absolute_values),
        a_all(512, qkern::HistogramValues::absolute_values);
    qkern::PerChannelMinMaxObserver cm(channels), cm_all(channels);
    qkern::PerChannelHistogramObserver ch(channels, 256), ch_all(channels, 256);
    mm.update(mine, n);
    h.update(mine, n);
    a.update(mine, n);
    cm.update(mine, layout);
    ch.update(mine, layout);
    mm_all.update(x.data(), x.size());
    h_all.update(x.data(), x.size());
    a_all.update(x.data(), x.size());
    cm_all.update(x.data(), all_layout);
    ch_all.update(x.data(), all_layout);
    const auto r_mm = qkern::mpi::reduce(mm, 0, MPI_COMM_WORLD);
    const auto r_h = qkern::mpi::reduce(h, 0, MPI_COMM_WORLD);
    const auto r_ch = qkern::mpi::reduce(ch, 0, MPI_COMM_WORLD);
    if (rank == 0) {
      expect(r_mm.serialize() == mm_all.serialize(), "reduce(MinMaxObserver)", rank);
      expect(r_h.serialize() == h_all.serialize(), "reduce(HistogramObserver)", rank);
      expect(r_ch.serialize() == ch_all.serialize(), "reduce(PerChannelHistogramObserver)", rank);
    } else {
      expect(r_h.serialize() == h.serialize(), "reduce() on a non-root rank (its own observer)", rank);
    }
    expect(qkern::mpi::allreduce(a, MPI_COMM_WORLD).serialize() == a_all.serialize(), "allreduce(|x| histogram)", rank);
    expect(qkern::mpi::allreduce(cm, MPI_COMM_WORLD).serialize() == cm_all.serialize(),
           "allreduce(PerChannelMinMaxObserver)", rank);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rank %d: %s\n", rank, e.what());
    ++failures;
  }
  int total = 0;
  MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0) std::printf("qkern_mpi_reduce_test: %d ranks, %d failure(s)\n", size, total);
  MPI_Finalize();
  return total == 0 ? 0 : 1;
}
