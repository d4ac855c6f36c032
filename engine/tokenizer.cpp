#include "tokenizer.h"
#include "tokenizer_impl.h"

#include "stream_decoder.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <queue>
#include <utility>

namespace sala {

namespace {

using tokenizer_detail::Merge;
using tokenizer_detail::pairKey;

constexpr std::string_view kMetaSpace = "\xE2\x96\x81"; // "▁"
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

bool isValidUtf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        const int n = utf8SequenceLength(s.substr(i));
        if (n <= 0) return false;
        i += static_cast<size_t>(n);
    }
    return true;
}

} // namespace

// BPE over a run of symbols: always the best-ranked adjacent pair, leftmost first, as the
// reference does.
void Tokenizer::Impl::mergeRun(std::vector<Symbol>& symbols, std::vector<int>& out) const {
    using Entry = std::pair<int, int>; // rank, position
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue;
    auto consider = [&](int pos) {
        const int next = symbols[pos].next;
        if (next < 0) return;
        if (const Merge* m = merges.find(pairKey(symbols[pos].id, symbols[next].id)))
            queue.push({m->rank, pos});
    };
    for (int pos = 0; pos + 1 < static_cast<int>(symbols.size()); ++pos) consider(pos);
    while (!queue.empty()) {
        const auto [rank, pos] = queue.top();
        queue.pop();
        Symbol& s = symbols[pos];
        if (s.id < 0 || s.next < 0) continue;
        const Merge* m = merges.find(pairKey(s.id, symbols[s.next].id));
        if (!m || m->rank != rank) continue; // stale entry
        const int gone = s.next;
        s.id = m->id;
        s.next = symbols[gone].next;
        if (s.next >= 0) symbols[s.next].prev = pos;
        symbols[gone].id = -1;
        if (s.prev >= 0) consider(s.prev);
        consider(pos);
    }
    for (int pos = symbols.empty() ? -1 : 0; pos >= 0; pos = symbols[pos].next)
        out.push_back(symbols[pos].id);
    symbols.clear();
}

// One plain segment, written the reference way: "▁" in front and for every space. A symbol that
// is in no merge splits the segment into runs that merge independently (keeps the queue small).
void Tokenizer::Impl::encodeSegment(std::string_view text, std::vector<int>& out) const {
    if (text.empty()) return;
    std::vector<Symbol> symbols;
    auto push = [&](int id) {
        if (!mergeable[id]) {
            mergeRun(symbols, out);
            out.push_back(id);
            return;
        }
        const int index = static_cast<int>(symbols.size());
        if (index > 0) symbols.back().next = index;
        symbols.push_back({id, index - 1, -1});
    };
    bool lastUnknown = false;
    auto pushChar = [&](std::string_view ch) {
        if (auto it = pieceIds.find(std::string(ch)); it != pieceIds.end()) {
            push(it->second);
            lastUnknown = false;
        } else if (byteFallback) {
            for (char c : ch) push(byteIds[static_cast<unsigned char>(c)]);
            lastUnknown = false;
        } else if (!lastUnknown && unk >= 0) { // unknown characters in a row make one <unk>
            push(unk);
            lastUnknown = true;
        }
    };
    pushChar(kMetaSpace);
    for (size_t i = 0; i < text.size();) {
        // A byte that starts no valid character stands alone and falls back to its byte token.
        const size_t n = static_cast<size_t>(std::max(1, utf8SequenceLength(text.substr(i))));
        const std::string_view ch = text.substr(i, n);
        pushChar(ch == " " ? kMetaSpace : ch);
        i += n;
    }
    mergeRun(symbols, out);
}

// Splits at added tokens (leftmost match, the longest of those starting there).
void Tokenizer::Impl::encodeText(std::string_view text, std::vector<int>& out) const {
    std::vector<size_t> next(added.size(), 0);
    for (size_t k = 0; k < added.size(); ++k) next[k] = text.find(added[k].content);
    size_t pos = 0;
    while (pos < text.size()) {
        int best = -1;
        for (size_t k = 0; k < added.size(); ++k) {
            if (next[k] < pos) next[k] = text.find(added[k].content, pos);
            if (next[k] == std::string_view::npos) continue;
            if (best < 0 || next[k] < next[best] ||
                (next[k] == next[best] && added[k].content.size() > added[best].content.size()))
                best = static_cast<int>(k);
        }
        const size_t end = best < 0 ? text.size() : next[best];
        encodeSegment(text.substr(pos, end - pos), out);
        if (best < 0) break;
        out.push_back(added[best].id);
        pos = end + added[best].content.size();
    }
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

std::vector<int> Tokenizer::encode(std::string_view text, bool addBos) const {
    std::vector<int> ids;
    if (addBos) ids.push_back(impl_->bos);
    impl_->encodeText(text, ids);
    return ids;
}

std::string Tokenizer::decode(std::span<const int> ids, bool skipSpecial) const {
    std::string out, run;
    // The reference turns a whole run of byte tokens into text at once.
    auto endRun = [&] {
        if (isValidUtf8(run)) {
            out += run;
        } else {
            for (size_t k = 0; k < run.size(); ++k) out += kReplacement;
        }
        run.clear();
    };
    for (int id : ids) {
        if (id < 0 || id >= vocabSize() || impl_->pieces[id].empty()) continue;
        if (skipSpecial && impl_->special[id]) continue;
        if (const int b = byteValue(id); b >= 0) {
            run.push_back(static_cast<char>(b));
            continue;
        }
        endRun();
        out += tokenText(id);
    }
    endRun();
    if (!out.empty() && out.front() == ' ') out.erase(0, 1);
    return out;
}

std::string Tokenizer::tokenPiece(int id) const {
    if (id < 0 || id >= vocabSize()) return {};
    return impl_->pieces[id];
}

std::string Tokenizer::tokenText(int id) const {
    if (byteValue(id) >= 0 || id < 0 || id >= vocabSize()) return {};
    const std::string_view piece = impl_->pieces[id];
    std::string text;
    text.reserve(piece.size());
    for (size_t i = 0; i < piece.size();) {
        if (piece.substr(i, kMetaSpace.size()) == kMetaSpace) {
            text += ' ';
            i += kMetaSpace.size();
        } else {
            text += piece[i++];
        }
    }
    return text;
}

int Tokenizer::byteValue(int id) const {
    return id >= 0 && id < vocabSize() ? impl_->byteOf[id] : -1;
}

int Tokenizer::pieceId(std::string_view piece) const {
    return impl_->lookup(std::string(piece));
}

int Tokenizer::vocabSize() const {
    return static_cast<int>(impl_->pieces.size());
}
int Tokenizer::pieceCount() const {
    return impl_->pieceCount;
}
int Tokenizer::bosId() const {
    return impl_->bos;
}
int Tokenizer::eosId() const {
    return impl_->eos;
}
int Tokenizer::unkId() const {
    return impl_->unk;
}
int Tokenizer::imStartId() const {
    return impl_->imStart;
}
int Tokenizer::imEndId() const {
    return impl_->imEnd;
}

std::vector<int> Tokenizer::stopIds() const {
    std::vector<int> ids;
    for (int id : {impl_->endOfText, impl_->imEnd, impl_->eos})
        if (id >= 0 && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    return ids;
}

bool Tokenizer::isSpecial(int id) const {
    return id >= 0 && id < vocabSize() && impl_->special[id];
}

} // namespace sala
