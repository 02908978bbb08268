package npm

// Limits caps what ReadTarball will decompress from an untrusted tarball. Zero fields take the defaults.
type Limits struct {
	// MaxManifestBytes caps package/package.json. Default 1 MiB.
	MaxManifestBytes int64
	// MaxEntryCount caps the number of tar entries. Default 100_000.
	MaxEntryCount int
	// MaxDecompressedBytes caps the decompressed tar stream. Default 8 GiB.
	MaxDecompressedBytes int64
	// MaxCompressionRatio caps decompressed/compressed bytes, checked once more than
	// ratioFloor (64 MiB) has been decompressed, so small, highly compressible packages pass. Default 200.
	MaxCompressionRatio int64
}

// ratioFloor is how much must be decompressed before MaxCompressionRatio applies.
const ratioFloor = 64 << 20

// DefaultLimits returns the limits used when a Limits field is zero.
func DefaultLimits() Limits {
	return Limits{
		MaxManifestBytes:     1 << 20,
		MaxEntryCount:        100_000,
		MaxDecompressedBytes: 8 << 30,
		MaxCompressionRatio:  200,
	}
}

// withDefaults fills zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxManifestBytes <= 0 {
		l.MaxManifestBytes = d.MaxManifestBytes
	}
	if l.MaxEntryCount <= 0 {
		l.MaxEntryCount = d.MaxEntryCount
	}
	if l.MaxDecompressedBytes <= 0 {
		l.MaxDecompressedBytes = d.MaxDecompressedBytes
	}
	if l.MaxCompressionRatio <= 0 {
		l.MaxCompressionRatio = d.MaxCompressionRatio
	}
	return l
}
