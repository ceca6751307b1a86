import { useEffect, useId, useState } from "react";
import { useQuery } from "../api/use-query.ts";
import { SearchPromptsDocument } from "../generated/graphql.ts";
import { navigate, paths } from "../router.ts";

/** Typing pauses this long before the server is asked. */
const DEBOUNCE_MS = 200;

/**
 * Finds prompts (searchPrompts: fuzzy, so a misspelled word still matches) and opens the gallery of
 * the one chosen: a combobox, usable with the arrow keys, Enter and Escape.
 */
export function PromptSearch({ initial = "" }: { initial?: string }) {
  const [text, setText] = useState(initial);
  const [query, setQuery] = useState("");
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const id = useId();

  useEffect(() => setText(initial), [initial]);
  useEffect(() => {
    const timer = setTimeout(() => setQuery(text.trim()), DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text]);
  const { data } = useQuery(SearchPromptsDocument, { query }, { skip: query === "" });
  const suggestions = query === "" ? [] : (data?.searchPrompts ?? []);
  const showing = open && suggestions.length > 0;

  const choose = (prompt: string) => {
    setOpen(false);
    setText(prompt);
    navigate(paths.gallery(prompt));
  };

  return (
    <form
      role="search"
      className="search"
      onSubmit={(event) => {
        event.preventDefault();
        // Enter takes the highlighted prompt, else the best match, else the text as typed.
        const picked = suggestions[active] ?? (showing ? suggestions[0] : undefined);
        if (picked) choose(picked.text);
        else if (text.trim()) choose(text.trim());
      }}
    >
      <label htmlFor={`${id}-input`} className="visually-hidden">
        Search prompts
      </label>
      <div className="search-box">
        <svg className="search-icon" viewBox="0 0 20 20" aria-hidden="true">
          <circle cx="9" cy="9" r="6" />
          <path d="m14 14 4 4" />
        </svg>
        <input
          id={`${id}-input`}
          type="search"
          role="combobox"
          aria-expanded={showing}
          aria-controls={`${id}-list`}
          aria-autocomplete="list"
          aria-activedescendant={showing && active >= 0 ? `${id}-option-${active}` : undefined}
          placeholder="Search prompts, e.g. lighthouse at dusk"
          autoComplete="off"
          value={text}
          onChange={(event) => {
            setText(event.target.value);
            setOpen(true);
            setActive(-1);
          }}
          onFocus={() => setOpen(true)}
          onBlur={() => setOpen(false)}
          onKeyDown={(event) => {
            if (event.key === "ArrowDown" || event.key === "ArrowUp") {
              event.preventDefault();
              setOpen(true);
              const step = event.key === "ArrowDown" ? 1 : -1;
              setActive((current) => (suggestions.length === 0 ? -1 : (current + step + suggestions.length) % suggestions.length));
            } else if (event.key === "Escape" && showing) {
              event.preventDefault();
              setOpen(false);
            }
          }}
        />
        <button type="submit" className="button-primary">
          Search
        </button>
      </div>
      <ul id={`${id}-list`} role="listbox" aria-label="Matching prompts" className="search-results" hidden={!showing}>
        {suggestions.map((prompt, index) => (
          <li
            key={prompt.id}
            id={`${id}-option-${index}`}
            role="option"
            aria-selected={index === active}
            className={index === active ? "active" : undefined}
            // On mouse down, before the input's blur closes the list.
            onMouseDown={(event) => {
              event.preventDefault();
              choose(prompt.text);
            }}
          >
            {prompt.bestImage ? <img src={prompt.bestImage.thumbnailUrl} alt="" /> : <span className="search-thumb-empty" />}
            <span className="search-text">{prompt.text}</span>
            <span className="muted">
              {prompt.imageCount} {prompt.imageCount === 1 ? "image" : "images"}
            </span>
          </li>
        ))}
      </ul>
    </form>
  );
}
