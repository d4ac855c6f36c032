#include "chat_format.h"

namespace sala {

std::string renderChat(const std::vector<ChatMessage>& messages, bool addGenerationPrompt) {
    std::string text;
    for (const auto& m : messages) {
        text += "<|im_start|>";
        text += m.role;
        text += '\n';
        text += m.content;
        text += "<|im_end|>\n";
    }
    if (addGenerationPrompt) text += "<|im_start|>assistant\n";
    return text;
}

std::vector<int> encodeChat(const Tokenizer& tokenizer, const std::vector<ChatMessage>& messages,
                            bool addGenerationPrompt) {
    return tokenizer.encode(renderChat(messages, addGenerationPrompt), true);
}

} // namespace sala
