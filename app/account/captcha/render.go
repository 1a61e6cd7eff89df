package captcha

import (
	"errors"
	"fmt"
	"io"
	"strings"

	base64Captcha "github.com/mojocn/base64Captcha"
)

// Image and audio parameters. The drawing and the sound code come from
// github.com/mojocn/base64Captcha (its port of dchest/captcha's digit
// renderer and recorded digit voices); only its low-level drivers are used,
// never its global store or its ID and answer generation. Its distortion
// noise comes from math/rand, which is fine: the answer does not.
const (
	// ImageWidth and ImageHeight are the PNG's size in pixels.
	ImageWidth, ImageHeight = 240, 80
	imageMaxSkew            = 0.7
	imageDots               = 80
)

// errBadAnswer means a Challenge given for drawing has no valid answer.
var errBadAnswer = errors.New("captcha: challenge has no valid answer")

// audioLanguages are the voices the audio renderer has.
var audioLanguages = []string{"de", "en", "ja", "ru", "zh"}

// AudioLanguages lists the languages WriteWAV speaks, as ISO 639-1 codes.
func AudioLanguages() []string { return append([]string(nil), audioLanguages...) }

// WritePNG draws c's answer as a distorted ImageWidth×ImageHeight PNG.
func WritePNG(w io.Writer, c Challenge) error {
	if !validAnswer(c.Answer) {
		return errBadAnswer
	}
	item, err := base64Captcha.NewDriverDigit(ImageHeight, ImageWidth, AnswerLen, imageMaxSkew, imageDots).DrawCaptcha(c.Answer)
	if err != nil {
		return fmt.Errorf("captcha: drawing: %w", err)
	}
	if _, err := item.WriteTo(w); err != nil {
		return fmt.Errorf("captcha: writing the image: %w", err)
	}
	return nil
}

// WriteWAV speaks c's answer over noise as an 8 kHz mono 8-bit WAV. lang is
// a language tag such as "de" or "en-GB"; languages without a voice get
// English.
func WriteWAV(w io.Writer, c Challenge, lang string) error {
	if !validAnswer(c.Answer) {
		return errBadAnswer
	}
	item, err := base64Captcha.NewDriverAudio(AnswerLen, AudioLanguage(lang)).DrawCaptcha(c.Answer)
	if err != nil {
		return fmt.Errorf("captcha: recording: %w", err)
	}
	if _, err := item.WriteTo(w); err != nil {
		return fmt.Errorf("captcha: writing the audio: %w", err)
	}
	return nil
}

// AudioLanguage returns the voice WriteWAV uses for a language tag: its
// primary subtag if there is a voice for it, else "en".
func AudioLanguage(tag string) string {
	primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	primary, _, _ = strings.Cut(primary, "_")
	for _, l := range audioLanguages {
		if l == primary {
			return l
		}
	}
	return "en"
}

func validAnswer(a string) bool {
	if len(a) != AnswerLen {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] < '0' || a[i] > '9' {
			return false
		}
	}
	return true
}
