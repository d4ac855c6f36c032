#pragma once
// Host memory figures read from /proc, for the CPU backend's readouts and capacity estimate.

#include <QtGlobal>

namespace folio {

// Resident set size of this process in bytes; 0 where /proc is unavailable.
quint64 processResidentBytes();
// Memory the system could give us without swapping (MemAvailable); 0 where unknown.
quint64 availableSystemMemory();

} // namespace folio
