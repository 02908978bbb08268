package npm

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
)

func TestGzipHeader(t *testing.T) {
	t.Parallel()
	hcrc := func(flg byte, fields []byte) []byte {
		h := append([]byte{0x1f, 0x8b, 8, flg | flagHCRC, 0, 0, 0, 0, 0, 3}, fields...)
		return binary.LittleEndian.AppendUint16(fields, uint16(crc32.ChecksumIEEE(h)))
	}
	tests := []struct {
		name    string
		flg     byte
		fields  []byte
		wantErr error
		wantMsg string
	}{
		{name: "plain"},
		{name: "file name of 70000 bytes", flg: flagName, fields: []byte(strings.Repeat("n", 70000) + "\x00")},
		{name: "comment and extra field", flg: flagComment | flagExtra, fields: []byte("\x04\x00Apxxc\x00")},
		{name: "right header CRC", flg: flagHCRC | flagName, fields: hcrc(flagName, []byte("pkg.tar\x00"))},
		{name: "wrong header CRC", flg: flagHCRC, fields: []byte{1, 2}, wantErr: ErrCorrupt, wantMsg: "header crc mismatch"},
		{name: "reserved bit 5", flg: 0x20, wantErr: ErrCorrupt, wantMsg: "unknown header flags set"},
		{name: "reserved bit 7", flg: 0x80 | flagName, fields: []byte("x\x00"), wantErr: ErrCorrupt, wantMsg: "FLG 0x88"},
		{name: "name cut short", flg: flagName, fields: []byte("abc"), wantErr: ErrCorrupt, wantMsg: "cut short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := writeTemp(t, "pkg.tgz", gzWithHeader(t, tt.flg, tt.fields))
			if tt.name == "name cut short" {
				p = writeTemp(t, "pkg.tgz", append([]byte{0x1f, 0x8b, 8, tt.flg, 0, 0, 0, 0, 0, 3}, tt.fields...))
			}
			got, err := ReadTarball(t.Context(), p, Limits{})
			if tt.wantErr == nil {
				if err != nil || got.Manifest.Name != "good-pkg" {
					t.Fatalf("ReadTarball = %v, %v; want good-pkg", got, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("ReadTarball = %v; want %v containing %q", err, tt.wantErr, tt.wantMsg)
			}
		})
	}
}
