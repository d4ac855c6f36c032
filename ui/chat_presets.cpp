#include "chat_presets.h"

#include <QObject>

namespace folio {

QList<ChatPreset> chatPresets(const QStringList& kinds) {
    const bool code = kinds.contains(QStringLiteral("code"));
    const bool documents = kinds.isEmpty() || kinds.count(QStringLiteral("code")) < kinds.size();
    QList<ChatPreset> presets;
    if (documents)
        presets << ChatPreset{QObject::tr("Summarize"),
                              QObject::tr("Summarize this document: its purpose, main points and "
                                          "conclusions.")}
                << ChatPreset{QObject::tr("Outline the chapters"),
                              QObject::tr("Outline the chapters of this document, with one or two "
                                          "sentences on each.")};
    if (code)
        presets << ChatPreset{QObject::tr("Explain the architecture"),
                              QObject::tr("Explain the architecture of this codebase: its main "
                                          "components, how they depend on each other, and how "
                                          "data flows through them.")}
                << ChatPreset{QObject::tr("Summarize each module"),
                              QObject::tr("Summarize each module of this codebase in a few "
                                          "sentences: what it does and its main types.")};
    return presets;
}

} // namespace folio
