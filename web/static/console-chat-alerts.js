// Parley console chat workspace: sound and desktop notifications. Nothing plays or pops up until
// the agent turns alerts on with a button (a user gesture: browsers allow sound and ask for the
// notification permission only then). The sound is a short two-tone chime made with WebAudio, no
// file. Notifications name the visitor only, never what they wrote: a desktop notification can
// show on a locked or shared screen.

export class Alerts {
  constructor() {
    this.on = false;
    this.audio = null;
    this.notify = false;
  }

  /** enable is called from the agent's click: it unlocks the sound and asks for notifications. */
  async enable() {
    const Ctx = globalThis.AudioContext || globalThis.webkitAudioContext;
    if (Ctx && !this.audio) {
      try { this.audio = new Ctx(); } catch { this.audio = null; }
    }
    if (this.audio && this.audio.state === 'suspended') await this.audio.resume().catch(() => {});
    this.on = true;
    if ('Notification' in globalThis) {
      let perm = Notification.permission;
      if (perm === 'default') perm = await Notification.requestPermission().catch(() => 'denied');
      this.notify = perm === 'granted';
    }
    this.chime();
    return { sound: !!this.audio, notifications: this.notify };
  }

  disable() {
    this.on = false;
  }

  /** chime plays two short soft tones. */
  chime() {
    if (!this.on || !this.audio) return;
    const now = this.audio.currentTime;
    for (const [i, freq] of [[0, 660], [1, 880]]) {
      const osc = this.audio.createOscillator();
      const gain = this.audio.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      const at = now + i * 0.16;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.15, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.15);
      osc.connect(gain).connect(this.audio.destination);
      osc.start(at);
      osc.stop(at + 0.16);
    }
  }

  /**
   * alert chimes and, when the page is not in front, shows a desktop notification with title and
   * body (no message content); clicking it brings the workspace back and calls onClick.
   */
  alert(title, body, tag, onClick) {
    if (!this.on) return;
    this.chime();
    if (!this.notify || document.visibilityState === 'visible') return;
    try {
      const n = new Notification(title, { body, tag, silent: true });
      n.onclick = () => { globalThis.focus(); if (onClick) onClick(); n.close(); };
    } catch {
      // Some browsers allow notifications from a service worker only: the chime is enough.
    }
  }
}
