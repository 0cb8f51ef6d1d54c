export const THEME_STORAGE_KEY = "batchboard-theme";

/** Runs in <head> before first paint so a stored theme never flashes ("system" sets nothing: CSS follows the OS). A constant, never user data. */
export const THEME_SCRIPT = `try{var t=localStorage.getItem("${THEME_STORAGE_KEY}");if(t==="light"||t==="dark")document.documentElement.dataset.theme=t}catch(e){}`;
