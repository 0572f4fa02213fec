// qkern tool — SPDX-License-Identifier: Apache-2.0
#include "collect.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "qkern/io.hpp"

namespace qkern::tool {
namespace fs = std::filesystem;

namespace {

bool is_tensor_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".npy" || ext == ".npz" || ext == ".safetensors";
}

std::string without_prefix(const char* what) {
  std::string s = what;
  if (s.rfind("qkern: ", 0) == 0) s.erase(0, 7);
  return s;
}

LayerState& layer_in(std::map<std::string, LayerState>& m, const Batch& b, const ObserverOptions& o) {
  auto it = m.find(b.name);
  if (it == m.end()) it = m.emplace(b.name, LayerState(b.name, b.shape, o)).first;
  return it->second;
}

}  // namespace

std::vector<InputFile> list_inputs(const std::vector<std::string>& paths) {
  std::vector<InputFile> files;
  for (const std::string& arg : paths) {
    std::error_code ec;
    const fs::path p(arg);
    const fs::file_status st = fs::status(p, ec);
    if (ec || !fs::exists(st)) throw DataError(arg + ": no such file or directory");
    if (fs::is_directory(st)) {
      fs::recursive_directory_iterator it(p, fs::directory_options::follow_directory_symlink, ec), end;
      if (ec) throw DataError(arg + ": cannot list the directory (" + ec.message() + ")");
      for (; it != end; it.increment(ec)) {
        if (ec) throw DataError(arg + ": cannot list the directory (" + ec.message() + ")");
        if (it->is_regular_file(ec) && is_tensor_file(it->path()))
          files.push_back({it->path().lexically_normal().generic_string(), it->file_size(ec)});
      }
    } else {
      files.push_back({p.lexically_normal().generic_string(), fs::file_size(p, ec)});
    }
  }
  std::sort(files.begin(), files.end(), [](const InputFile& a, const InputFile& b) { return a.path < b.path; });
  files.erase(
      std::unique(files.begin(), files.end(), [](const InputFile& a, const InputFile& b) { return a.path == b.path; }),
      files.end());
  if (files.empty()) throw DataError("no .npy, .npz or .safetensors file found in the inputs");
  return files;
}

void add_batch(CalibrationState& state, const Batch& batch, const ObserverOptions& options) {
  auto it = std::lower_bound(state.layers.begin(), state.layers.end(), batch.name,
                             [](const LayerState& l, const std::string& n) { return l.name() < n; });
  if (it != state.layers.end() && it->name() == batch.name) {  // update in place, as collect() does
    it->update(batch.data, batch.shape);
    return;
  }
  LayerState l(batch.name, batch.shape, options);
  l.update(batch.data, batch.shape);
  state.add(std::move(l));
}

unsigned worker_count(unsigned threads, std::size_t files) {
  return std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(std::min<std::size_t>(files, 4096))));
}

void for_each_tensor(const std::vector<InputFile>& files, unsigned threads_wanted, const ProgressFn& progress,
                     const TensorSink& sink) {
  const unsigned threads = worker_count(threads_wanted, files.size());
  std::uint64_t bytes_total = 0;
  for (const InputFile& f : files) bytes_total += f.bytes;

  std::atomic<std::size_t> next{0}, done{0};
  std::atomic<std::uint64_t> bytes_done{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::size_t error_index = files.size();
  std::string error_message;
  std::exception_ptr internal_error;

  auto worker = [&](unsigned t) {
    std::vector<float> buffer;
    for (;;) {
      const std::size_t i = next.fetch_add(1);
      if (i >= files.size() || failed.load()) return;
      const std::string& path = files[i].path;
      try {
        const io::TensorFile file = io::TensorFile::open(path);
        for (const io::TensorView& v : file.tensors()) {
          const float* data = v.as_float32();
          if (data == nullptr && v.element_count() != 0) {
            buffer.resize(v.element_count());
            v.to_float32(buffer.data());
            data = buffer.data();
          }
          sink(t, i, Batch{v.name, v.shape, data});
        }
      } catch (const DataError& e) {
        std::string what = without_prefix(e.what());
        if (what.find(path) == std::string::npos) what = path + ": " + what;
        std::lock_guard<std::mutex> lock(error_mutex);
        if (i < error_index) {
          error_index = i;
          error_message = what;
        }
        failed = true;
        return;
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!internal_error) internal_error = std::current_exception();
        failed = true;
        return;
      }
      bytes_done += files[i].bytes;
      ++done;
    }
  };

  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker, t);
  if (progress) {
    std::thread main_worker(worker, 0u);
    while (done.load() < files.size() && !failed.load()) {
      progress(done.load(), files.size(), bytes_done.load(), bytes_total);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    main_worker.join();
  } else {
    worker(0);
  }
  for (std::thread& th : pool) th.join();
  if (internal_error) std::rethrow_exception(internal_error);
  if (failed) throw DataError(error_message);
  if (progress) progress(done.load(), files.size(), bytes_done.load(), bytes_total);
}

CalibrationState collect(const std::vector<InputFile>& files, const CollectOptions& options) {
  std::vector<std::map<std::string, LayerState>> partial(worker_count(options.threads, files.size()));
  for_each_tensor(files, options.threads, options.progress, [&](unsigned t, std::size_t, const Batch& b) {
    layer_in(partial[t], b, options.observers).update(b.data, b.shape);
  });
  CalibrationState state;
  for (auto& m : partial)
    for (auto& kv : m) state.add(std::move(kv.second));
  return state;
}

}  // namespace qkern::tool
