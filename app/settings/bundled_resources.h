#pragma once
// What Folio ships besides the programs: a small demo model for machines without MiniCPM-SALA,
// and sample documents for a first run. Each is looked for, in order, in the folder named by an
// environment variable, in the install tree next to the executable (<app dir>/../share/folio/…)
// and in the source tree (resources/…), so a build folder finds them without installing.

#include <QString>
#include <QStringList>

namespace folio {

// FOLIO_DEMO_MODEL, <applicationDir>/../share/folio/demo-model, <source>/resources/demo-model.
QStringList demoModelSearchPath(const QString& applicationDir);
// FOLIO_SAMPLES_DIR, <applicationDir>/../share/folio/samples, <source>/resources/samples.
QStringList samplesSearchPath(const QString& applicationDir);

// The documents of a samples folder, sorted: its files less the notes that travel with them
// (README*, LICENSE*, LICENCE*, COPYING*), which say where the texts come from and are no
// samples to read.
QStringList sampleDocuments(const QString& folder);
// The first of `dirs` that holds sample documents; empty if none does.
QString firstFolderWithSamples(const QStringList& dirs);

} // namespace folio
