#pragma once
// Where the document library lives. The desktop app and folio-cli take its place from here, so a
// library filled by one is the library of the other.

#include <QString>

class QSettings;

namespace folio {

// The app's settings store is QSettings(kSettingsOrganization, kSettingsApplication)
// (~/.config/Folio/folio.conf on Linux); folio-cli reads the chosen data folder from it too.
inline constexpr char kSettingsOrganization[] = "Folio";
inline constexpr char kSettingsApplication[] = "folio";
inline constexpr char kDataFolderKey[] = "storage/dataFolder";

// The data folder when none is chosen: <GenericDataLocation>/Folio/folio
// (~/.local/share/Folio/folio on Linux), the same whichever program asks.
QString defaultDataFolder();
// The data folder chosen in `settings`, else defaultDataFolder().
QString dataFolderIn(const QSettings& settings);
// library.sqlite inside `dataFolder`; the folder is created when missing.
QString libraryPathIn(const QString& dataFolder);
// The library of the data folder chosen in the app's settings store.
QString defaultLibraryPath();

} // namespace folio
