/* CLSEG_API marks the functions the shared library exports; everything else stays hidden. */
#ifndef CLSEG_EXPORT_H
#define CLSEG_EXPORT_H

#if defined(CLSEG_BUILDING_LIBRARY) && defined(__GNUC__)
#define CLSEG_API __attribute__((visibility("default")))
#else
#define CLSEG_API
#endif

#endif
