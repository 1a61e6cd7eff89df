package redact

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

// refIBANChecksum computes the mod-97 remainder with big integers, as the
// standard describes it: rearrange, replace letters by two digits, divide.
func refIBANChecksum(iban string) int {
	s := strings.ToUpper(strings.ReplaceAll(iban, " ", ""))
	s = s[4:] + s[:4]
	var digits strings.Builder
	for _, c := range s {
		if c >= 'A' && c <= 'Z' {
			fmt.Fprintf(&digits, "%d", c-'A'+10)
		} else {
			digits.WriteRune(c)
		}
	}
	n, ok := new(big.Int).SetString(digits.String(), 10)
	if !ok {
		return -1
	}
	return int(new(big.Int).Mod(n, big.NewInt(97)).Int64())
}

// registryExamples are the example IBANs of the IBAN registry.
var registryExamples = []string{
	"AD1200012030200359100100", "AE070331234567890123456", "AL47212110090000000235698741",
	"AT611904300234573201", "BA391290079401028494", "BE68539007547034", "BG80BNBG96611020345678",
	"BH67BMAG00001299123456", "BR1800360305000010009795493C1", "CH9300762011623852957",
	"CY17002001280000001200527600", "CZ6508000000192000145399", "DE89370400440532013000",
	"DK5000400440116243", "EE382200221020145685", "ES9121000418450200051332", "FI2112345600000785",
	"FO6264600001631634", "FR1420041010050500013M02606", "GB29NWBK60161331926819",
	"GI75NWBK000000007099453", "GL8964710001000206", "GR1601101250000000012300695",
	"HR1210010051863000160", "HU42117730161111101800000000", "IE29AIBK93115212345678",
	"IL620108000000099999999", "IS140159260076545510730339", "IT60X0542811101000000123456",
	"JO94CBJO0010000000000131000302", "KW81CBKU0000000000001234560101", "KZ86125KZT5004100100",
	"LB62099900000001001901229114", "LI21088100002324013AA", "LT121000011101001000",
	"LU280019400644750000", "LV80BANK0000435195001", "MC5811222000010123456789030",
	"MD24AG000225100013104168", "ME25505000012345678951", "MK07250120000058984",
	"MT84MALT011000012345MTLCAST001S", "MU17BOMM0101101030300200000MUR", "NL91ABNA0417164300",
	"NO9386011117947", "PK36SCBL0000001123456702", "PL61109010140000071219812874",
	"PS92PALS000000000400123456702", "PT50000201231234567890154", "QA58DOHB00001234567890ABCDEFG",
	"RO49AAAA1B31007593840000", "RS35260005601001611379", "SA0380000000608010167519",
	"SE4550000000058398257466", "SI56263300012039086", "SK3112000000198742637541",
	"SM86U0322509800000000270100", "TN5910006035183598478831", "TR330006100519786457841326",
	"UA213223130000026007233566001", "VG96VPVG0000012345678901", "XK051212012345678906",
}

func TestValidIBANRegistryExamples(t *testing.T) {
	for _, iban := range registryExamples {
		t.Run(iban[:2], func(t *testing.T) {
			if ref := refIBANChecksum(iban); ref != 1 {
				t.Fatalf("reference checksum of %s = %d, the example is mistyped", iban, ref)
			}
			if !ValidIBAN(iban) {
				t.Errorf("ValidIBAN(%s) = false, want true", iban)
			}
			if printed := printFormat(iban); !ValidIBAN(printed) {
				t.Errorf("ValidIBAN(%q) = false, want true (print format)", printed)
			}
			if lower := strings.ToLower(iban); !ValidIBAN(lower) {
				t.Errorf("ValidIBAN(%q) = false, want true (lower case)", lower)
			}
			n, ok := IBANLength(iban[:2])
			if !ok || n != len(iban) {
				t.Errorf("IBANLength(%s) = %d, %v; want %d", iban[:2], n, ok, len(iban))
			}
		})
	}
}

// printFormat writes an IBAN in groups of four.
func printFormat(iban string) string {
	var parts []string
	for len(iban) > 4 {
		parts = append(parts, iban[:4])
		iban = iban[4:]
	}
	return strings.Join(append(parts, iban), " ")
}

func TestValidIBANRejects(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"bad checksum", "DE89370400440532013001"},
		{"swapped digits", "DE89370400440523013000"},
		{"too short for the country", "DE8937040044053201300"},
		{"too long for the country", "DE893704004405320130000"},
		{"unknown country", "ZZ89370400440532013000"},
		{"check digits 00", "GB00NWBK60161331926819"},
		{"check digits 01", "GB01NWBK60161331926819"},
		{"check digits 99", "GB99NWBK60161331926819"},
		{"punctuation", "GB29-NWBK-6016-1331-9268-19"},
		{"double space", "GB29  NWBK 6016 1331 9268 19"},
		{"leading space", " GB29NWBK60161331926819"},
		{"digits for country", "1229NWBK60161331926819"},
		{"letters for check digits", "GBABNWBK60161331926819"},
		{"non-ascii", "GB29NWBK6016133192681９"},
		{"far too long", strings.Repeat("A", 40)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ValidIBAN(tt.in) {
				t.Errorf("ValidIBAN(%q) = true, want false", tt.in)
			}
		})
	}
}

func TestValidIBANGenerated(t *testing.T) {
	rng := rand.New(rand.NewPCG(97, 10))
	const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for country, n := range ibanLengths {
		for range 20 {
			var bban strings.Builder
			for bban.Len() < n-4 {
				bban.WriteByte(alnum[rng.IntN(len(alnum))])
			}
			// Check digits: 98 - (BBAN + country + "00") mod 97.
			check := 98 - refIBANChecksum(country+"00"+bban.String())
			iban := fmt.Sprintf("%s%02d%s", country, check, bban.String())
			if !ValidIBAN(iban) {
				t.Fatalf("ValidIBAN(%s) = false, want true", iban)
			}
			// Any single changed digit is caught by mod 97 (a letter
			// stands for two digits, so letter changes can collide).
			k := 2 + rng.IntN(n-2)
			c := alnum[rng.IntN(10)]
			if c == iban[k] || !isDigit(iban[k]) {
				continue
			}
			bad := iban[:k] + string(c) + iban[k+1:]
			if ValidIBAN(bad) {
				t.Errorf("ValidIBAN(%s) = true after changing character %d of %s", bad, k, iban)
			}
		}
	}
}
