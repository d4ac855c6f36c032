#pragma once
// The ChatML prompt layout of MiniCPM4 / MiniCPM-SALA.

#include "tokenizer.h"

#include <string>
#include <string_view>
#include <vector>

namespace sala {

struct ChatMessage {
    std::string role;
    std::string content;
};

// ChatML: "<|im_start|>{role}\n{content}<|im_end|>\n" per message, then "<|im_start|>assistant\n"
// if addGenerationPrompt. (No BOS in the string.)
std::string renderChat(const std::vector<ChatMessage>& messages, bool addGenerationPrompt);

// BOS once, then the rendered chat encoded with Tokenizer::encode.
std::vector<int> encodeChat(const Tokenizer& tokenizer, const std::vector<ChatMessage>& messages,
                            bool addGenerationPrompt);

// Option "no thinking": the text "<think>\n\n</think>\n\n" pre-filled after the generation prompt.
inline constexpr std::string_view kNoThinkingPrefill = "<think>\n\n</think>\n\n";

} // namespace sala
