// The few DOM helpers the screens share. Text goes in with textContent only, never
// as HTML: usernames, chat and server reasons are untrusted.

export const byId = (id) => document.getElementById(id);

/** Create an element: el("li", {class: "x", dataset: {id: 1}}, "text", childNode). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "style") Object.assign(node.style, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function setVisible(node, visible) {
  node.hidden = !visible;
}
