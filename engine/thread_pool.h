#pragma once
// A fixed set of worker threads for data-parallel loops.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sala {

class ThreadPool {
public:
    // threads <= 0 picks the hardware concurrency.
    explicit ThreadPool(int threads = 0);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return static_cast<int>(workers_.size()) + 1; }

    // Splits [0, n) into contiguous ranges, one per thread, and waits for all of them.
    // Callers keep each output element's arithmetic inside one range so that results do
    // not depend on the partition.
    void parallelFor(int64_t n, const std::function<void(int64_t begin, int64_t end)>& body);

private:
    void workerLoop(int index);

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    const std::function<void(int64_t, int64_t)>* body_ = nullptr;
    int64_t n_ = 0;
    uint64_t generation_ = 0;
    int pending_ = 0;
    bool stopping_ = false;
};

} // namespace sala
