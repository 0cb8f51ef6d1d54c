"use client";

import { useEffect, useState } from "react";
import { THEME_STORAGE_KEY as KEY } from "./theme-script";

type Theme = "light" | "dark";

function currentTheme(): Theme {
  const set = document.documentElement.dataset.theme;
  if (set === "light" || set === "dark") return set;
  return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

/** Flips data-theme on <html> and remembers the choice; the head script applies it before paint. */
export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme | null>(null);
  // read after mount: the server cannot know the stored theme
  // eslint-disable-next-line react-hooks/set-state-in-effect
  useEffect(() => setTheme(currentTheme()), []);
  const next: Theme = theme === "dark" ? "light" : "dark";
  return (
    <button
      type="button"
      className="btn btn-ghost theme-toggle"
      aria-label={`Switch to ${next} theme`}
      title={`Switch to ${next} theme`}
      onClick={() => {
        document.documentElement.dataset.theme = next;
        try {
          localStorage.setItem(KEY, next);
        } catch {
          // private mode: the choice lasts for this page only
        }
        setTheme(next);
      }}
    >
      <span aria-hidden>{theme === "dark" ? "☀" : "☾"}</span>
    </button>
  );
}

