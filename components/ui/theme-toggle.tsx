"use client";

import { useEffect, useState } from "react";
import { THEME_STORAGE_KEY as KEY } from "./theme-script";

type Choice = "light" | "dark" | "system";

function storedChoice(): Choice {
  try {
    const t = localStorage.getItem(KEY);
    if (t === "light" || t === "dark") return t;
  } catch {
    // private mode: nothing stored
  }
  return "system";
}

/**
 * Light, dark, or the system's choice (no data-theme on <html>: the stylesheet follows
 * prefers-color-scheme, also when it changes). Remembered; the head script applies it before paint.
 */
export function ThemeToggle() {
  const [choice, setChoice] = useState<Choice>("system");
  // read after mount: the server cannot know the stored theme
  // eslint-disable-next-line react-hooks/set-state-in-effect
  useEffect(() => setChoice(storedChoice()), []);
  return (
    <select
      className="theme-toggle"
      aria-label="Theme"
      title="Theme"
      value={choice}
      onChange={(e) => {
        const next = e.target.value as Choice;
        if (next === "system") delete document.documentElement.dataset.theme;
        else document.documentElement.dataset.theme = next;
        try {
          localStorage.setItem(KEY, next);
        } catch {
          // private mode: the choice lasts for this page only
        }
        setChoice(next);
      }}
    >
      <option value="light">☀ Light</option>
      <option value="dark">☾ Dark</option>
      <option value="system">System</option>
    </select>
  );
}
