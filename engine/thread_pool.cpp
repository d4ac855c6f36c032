#include "thread_pool.h"

namespace sala {

ThreadPool::ThreadPool(int threads) {
    if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
    if (threads <= 0) threads = 1;
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
}

namespace {
void rangeOf(int64_t n, int parts, int index, int64_t& begin, int64_t& end) {
    begin = n * index / parts;
    end = n * (index + 1) / parts;
}
} // namespace

void ThreadPool::parallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& body) {
    if (n <= 0) return;
    const int parts = size();
    if (parts == 1 || n == 1) {
        body(0, n);
        return;
    }
    {
        std::lock_guard lock(mutex_);
        body_ = &body;
        n_ = n;
        pending_ = parts - 1;
        ++generation_;
    }
    wake_.notify_all();
    int64_t begin, end;
    rangeOf(n, parts, 0, begin, end);
    if (begin < end) body(begin, end);
    std::unique_lock lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
    body_ = nullptr;
}

void ThreadPool::workerLoop(int index) {
    uint64_t seen = 0;
    for (;;) {
        const std::function<void(int64_t, int64_t)>* body;
        int64_t n;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
            if (stopping_) return;
            seen = generation_;
            body = body_;
            n = n_;
        }
        int64_t begin, end;
        rangeOf(n, size(), index, begin, end);
        if (begin < end) (*body)(begin, end);
        {
            std::lock_guard lock(mutex_);
            if (--pending_ == 0) done_.notify_one();
        }
    }
}

} // namespace sala
